# Run by the Go ipcontroller (runtime/controller/dask.go) with the Python that has dask's
# `distributed`: start a distributed.Scheduler with the client's scheduler_args (argv[1],
# JSON), print one JSON line {ip, address, port} on stdout once it listens, and serve until
# SIGTERM/SIGINT or until stdin reaches end of file (the controller is gone, whatever way
# it ended).
import asyncio
import json
import os
import signal
import sys


async def serve(kwargs):
    from distributed import Scheduler

    scheduler = Scheduler(**kwargs)
    await scheduler.start()
    info = {"ip": scheduler.ip, "address": scheduler.address, "port": scheduler.port}
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def on_stdin():
        if not os.read(0, 4096):
            loop.remove_reader(0)
            stop.set()

    loop.add_reader(0, on_stdin)
    await stop.wait()
    await scheduler.close()


asyncio.run(serve(json.loads(sys.argv[1])))
