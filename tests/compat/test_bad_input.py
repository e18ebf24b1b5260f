"""Malformed and hostile messages on the Hub's registration/query socket (raw pyzmq DEALER).

None of the invalid messages may get a reply, and afterwards the controller must still
answer a valid connection_request and serve a real Client.  Error replies for valid but
unanswerable queries must look like ipyparallel's."""

import json
import re

import ipyparallel as ipp
import pytest
import zmq
from jupyter_client.session import Session

DELIM = b"<IDS|MSG>"
NO_REPLY_WAIT_MS = 500
REPLY_WAIT_MS = 10000


@ipp.interactive
def _getpid():
    import os

    return os.getpid()


@pytest.fixture(scope="module")
def conn(cluster):
    info = cluster.connection_info("client")
    return info


@pytest.fixture(scope="module")
def session(conn):
    return Session(key=conn["key"].encode("utf8"), signature_scheme=conn["signature_scheme"])


@pytest.fixture
def sock(conn):
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    s.connect(f"{conn['interface']}:{conn['registration']}")
    yield s
    s.close(linger=0)


def _recv(sock, timeout_ms):
    if sock.poll(timeout_ms, zmq.POLLIN):
        return sock.recv_multipart()
    return None


def _assert_no_reply(sock, what):
    frames = _recv(sock, NO_REPLY_WAIT_MS)
    assert frames is None, f"{what} got a reply: {frames!r}"


def _request(sock, session, msg_type, content):
    """Send a valid request; return (request msg, decoded reply)."""
    msg = session.msg(msg_type, content=content)
    sock.send_multipart(session.serialize(msg))
    frames = _recv(sock, REPLY_WAIT_MS)
    assert frames is not None, f"no reply to a valid {msg_type}"
    idents, parts = session.feed_identities(frames)
    assert idents == [], "a DEALER should receive no routing prefix"
    reply = session.deserialize(parts)
    assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
    return msg, reply


def _assert_still_serving(sock, session, client):
    _, reply = _request(sock, session, "connection_request", {})
    assert reply["msg_type"] == "connection_reply"
    assert reply["content"]["status"] == "ok"
    assert sorted(int(k) for k in reply["content"]["engines"]) == [0, 1]
    assert sorted(reply["content"]["engines"].values()) == sorted(client._engines.values())
    assert len(set(client[:].apply_sync(_getpid))) == 2


def test_unsigned_message(sock, session, conn, client):
    unsigned = Session(key=b"", signature_scheme=conn["signature_scheme"])
    frames = unsigned.serialize(unsigned.msg("connection_request", content={}))
    assert frames[0] == DELIM and frames[1] == b""
    sock.send_multipart(frames)
    _assert_no_reply(sock, "an unsigned message")
    _assert_still_serving(sock, session, client)


def test_bad_signature(sock, session, client):
    frames = session.serialize(session.msg("connection_request", content={}))
    good = frames[1]
    frames[1] = bytes(reversed(good))  # same length and alphabet, wrong digest
    assert frames[1] != good
    sock.send_multipart(frames)
    _assert_no_reply(sock, "a badly signed message")
    other = Session(key=b"not-the-key", signature_scheme=session.signature_scheme)
    sock.send_multipart(other.serialize(other.msg("connection_request", content={})))
    _assert_no_reply(sock, "a message signed with another key")
    _assert_still_serving(sock, session, client)


def test_truncated_message(sock, session, client):
    msg = session.msg("connection_request", content={})
    header, parent, metadata = (session.pack(msg[k]) for k in ("header", "parent_header", "metadata"))
    # four frames after the delimiter; signed over what is there, so only the length is wrong
    sock.send_multipart([DELIM, session.sign([header, parent, metadata]), header, parent, metadata])
    _assert_no_reply(sock, "a truncated message (4 frames after the delimiter)")
    sock.send_multipart([DELIM, session.sign([header]), header])
    _assert_no_reply(sock, "a truncated message (2 frames after the delimiter)")
    _assert_still_serving(sock, session, client)


def test_bare_delimiter(sock, session, client):
    # ipyparallel answers a bare <IDS|MSG> with a hub_error (IndexError from
    # Session.deserialize, hub.py:352); dropping it is fine too.  It must not hurt the Hub.
    sock.send_multipart([DELIM])
    frames = _recv(sock, NO_REPLY_WAIT_MS)
    if frames is not None:
        reply = session.deserialize(session.feed_identities(frames)[1])
        assert reply["msg_type"] == "hub_error"
        assert reply["content"]["status"] == "error"
    _assert_still_serving(sock, session, client)


def test_non_json_content_with_valid_signature(sock, session, client):
    msg = session.msg("connection_request", content={})
    header, parent, metadata = (session.pack(msg[k]) for k in ("header", "parent_header", "metadata"))
    for content in (b"{not json", b"\xff\xfe\x00binary", b"[1, 2, 3]"[:-1]):
        fresh = session.msg("connection_request", content={})
        header = session.pack(fresh["header"])
        parts = [header, parent, metadata, content]
        sock.send_multipart([DELIM, session.sign(parts)] + parts)
        _assert_no_reply(sock, f"non-JSON content {content!r}")
    # non-JSON header, validly signed
    parts = [b"header?", parent, metadata, b"{}"]
    sock.send_multipart([DELIM, session.sign(parts)] + parts)
    _assert_no_reply(sock, "a non-JSON header")
    _assert_still_serving(sock, session, client)


def test_missing_delimiter(sock, session, client):
    frames = session.serialize(session.msg("connection_request", content={}))
    assert frames[0] == DELIM
    sock.send_multipart(frames[1:])
    _assert_no_reply(sock, "a message without <IDS|MSG>")
    _assert_still_serving(sock, session, client)


def test_replayed_message(sock, session, client):
    msg = session.msg("connection_request", content={})
    frames = session.serialize(msg)
    sock.send_multipart(frames)
    first = _recv(sock, REPLY_WAIT_MS)
    assert first is not None, "the original message got no reply"
    reply = session.deserialize(session.feed_identities(first)[1])
    assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
    assert reply["content"]["status"] == "ok"
    sock.send_multipart(frames)  # byte-identical replay
    _assert_no_reply(sock, "a replayed (duplicate-signature) message")
    _assert_still_serving(sock, session, client)


def test_garbage_then_real_client(cluster, sock, session, client):
    for frames in ([b""], [b"hello"], [DELIM, b"x" * 64, b"{}", b"{}", b"{}", b"{}"],
                   [b"\x00" * 5, DELIM, b"", b"", b"", b"", b""]):
        sock.send_multipart(frames)
    _assert_no_reply(sock, "garbage frames")
    # a brand-new real Client can still connect and work
    c2 = cluster.connect()
    try:
        c2.wait_for_engines(2, timeout=30)
        assert c2.ids == [0, 1]
        assert c2.load_balanced_view().map_sync(ipp.interactive(lambda x: x + 1), range(20)) == \
            list(range(1, 21))
    finally:
        c2.close()


def test_queue_request_unknown_engine(sock, session):
    _, reply = _request(sock, session, "queue_request", {"targets": [99], "verbose": False})
    content = reply["content"]
    assert content["status"] == "error"
    assert content["ename"] == "IndexError"
    assert reply["msg_type"] in ("hub_error", "queue_reply")
    assert isinstance(content["traceback"], list)
    assert not content.get("engine_info"), "Hub errors must carry no engine_info"


def test_result_request_unknown_msg_id(sock, session):
    _, reply = _request(sock, session, "result_request",
                        {"msg_ids": ["no-such-msg-id"], "status_only": False})
    assert reply["msg_type"] == "result_reply"
    content = reply["content"]
    assert content["status"] == "error"
    assert content["ename"] == "KeyError"
    assert "no-such-msg-id" in content["evalue"]


def test_unknown_message_type(sock, session):
    _, reply = _request(sock, session, "frobnicate_request", {})
    assert reply["msg_type"] == "hub_error"
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyError"


def test_valid_queries_over_raw_socket(sock, session):
    _, reply = _request(sock, session, "queue_request", {"targets": None, "verbose": False})
    assert reply["msg_type"] == "queue_reply"
    content = reply["content"]
    assert content["status"] == "ok"
    assert set(content) == {"status", "unassigned", "0", "1"}
    _, reply = _request(sock, session, "history_request", {})
    assert reply["msg_type"] == "history_reply" and isinstance(reply["content"]["history"], list)
    _, reply = _request(sock, session, "db_request", {"query": {"msg_id": "nope"}, "keys": None})
    assert reply["msg_type"] == "db_reply"
    assert reply["content"]["records"] == []
    # header of every reply: protocol version and a microsecond UTC timestamp
    header = reply["header"]
    assert header["version"] == "5.3"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$", header["date"]), header["date"]
    json.dumps(reply["content"])
