"""A raw pyzmq CURVE client of a Go controller, for runtime/controller's CURVE test.

usage: curve_client.py URL SERVERKEY TIMEOUT_S

It makes its own key pair (as ipyparallel 9's clients do), sends a real
connection_request on the registration socket with an empty HMAC key (the default
with CURVE), and prints one JSON line: {"msg_type": ..., "status": ...} of the reply,
or {"msg_type": null} when none came within the timeout.
"""
import json
import sys

import zmq
from jupyter_client.session import Session

url, server_key, timeout = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3])
ctx = zmq.Context()
sock = ctx.socket(zmq.DEALER)
sock.linger = 0
public, secret = zmq.curve_keypair()
sock.curve_serverkey = server_key
sock.curve_publickey = public
sock.curve_secretkey = secret
sock.connect(url)
session = Session(key=b"")
session.send(sock, "connection_request", content={})
out = {"msg_type": None}
if sock.poll(int(timeout * 1000)):
    _, frames = session.feed_identities(sock.recv_multipart())
    msg = session.deserialize(frames)
    out = {"msg_type": msg["header"]["msg_type"], "status": msg["content"].get("status")}
print(json.dumps(out))
sock.close()
ctx.term()
