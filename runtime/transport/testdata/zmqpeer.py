"""A libzmq peer (pyzmq) for the transport's interoperability tests.

usage: zmqpeer.py SCENARIO ENDPOINT
Prints "ready" once its socket is set up (for bind scenarios: "ready PORT"), then "ok" when
the scenario passed; anything else on stdout, or a non-zero exit, is a failure.
"""
import select
import sys

import zmq

BIG = b"y" * (2 << 20)
LONG = b"x" * 300


def main(scenario, endpoint):
    ctx = zmq.Context()

    def recv(sock):
        if not sock.poll(10000):
            raise SystemExit("timeout waiting for a message")
        return sock.recv_multipart()

    if scenario == "dealer":  # Go ROUTER binds; we echo-check through it
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.IDENTITY, b"py-dealer")
        s.connect(endpoint)
        print("ready", flush=True)
        s.send_multipart([b"hello", LONG, BIG])
        got = recv(s)
        assert got == [b"hello", LONG, BIG], [len(f) for f in got]
    elif scenario == "router":  # we bind a ROUTER with an identity; Go's ROUTER connects
        s = ctx.socket(zmq.ROUTER)
        s.setsockopt(zmq.IDENTITY, b"py-router")
        port = s.bind_to_random_port("tcp://127.0.0.1")
        print("ready", port, flush=True)
        ident, *body = recv(s)
        assert ident == b"go-router", ident
        s.send_multipart([ident, b"reply"] + body)
    elif scenario == "sub":  # Go PUB binds; we subscribe to "a" only
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.SUBSCRIBE, b"a")
        s.connect(endpoint)
        print("ready", flush=True)
        for _ in range(3):
            topic, body = recv(s)
            assert topic.startswith(b"a"), topic
    elif scenario == "pub":  # Go SUB binds (the controller's iopub); we connect and publish
        s = ctx.socket(zmq.PUB)
        s.connect(endpoint)
        print("ready", flush=True)
        while not select.select([sys.stdin], [], [], 0.01)[0]:
            s.send_multipart([b"engine.0.stream", b"data"])
        sys.stdin.readline()
    elif scenario == "late-router":  # we bind late: Go's DEALER sent before we existed
        s = ctx.socket(zmq.ROUTER)
        s.bind(endpoint)
        print("ready", flush=True)
        ident, *body = recv(s)
        assert body == [b"early", b"bird"], body
        s.send_multipart([ident, b"welcome"])
    else:
        raise SystemExit("unknown scenario " + scenario)
    print("ok", flush=True)
    s.close(linger=1000)
    ctx.term()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
