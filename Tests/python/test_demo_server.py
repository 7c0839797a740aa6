"""Integration tests: the Python client against the real fma-demo server (see conftest.py for
how it is started and stopped), plus hand-made frames that check the server keeps the protocol
(docs/wire-protocol.md) where a well-behaved client cannot go."""

from __future__ import annotations

import re
import struct
import threading
import time
from typing import TYPE_CHECKING

import pytest

from fma.client import Client, RPCError, StatusCode, encode_frame
from fma.v1 import demo_pb2, frame_pb2, health_pb2

if TYPE_CHECKING:
    from conftest import DemoServer

SERVING = health_pb2.HealthCheckResponse.SERVING


def connect(server: DemoServer, transport: str, **options: object) -> Client:
    """A client of ``server`` over "unix" (no token) or "tcp" (with the server's token)."""
    if transport == "unix":
        return Client.connect(server.unix, **options)
    options.setdefault("token", server.token)
    return Client.connect(server.tcp, **options)


def request_frame(call_id: int, method: str, payload: bytes, **fields: object
                  ) -> frame_pb2.Frame:
    return frame_pb2.Frame(call_id=call_id, request=frame_pb2.CallRequest(
        method=method, payload=payload, **fields))


def echo_payload(text: str = "", delay_ms: int = 0) -> bytes:
    return demo_pb2.EchoRequest(text=text, delay_ms=delay_ms).SerializeToString()


# -- starting ---------------------------------------------------------------------------------


def test_ready_file_names_the_listeners_in_order(demo_server: DemoServer) -> None:
    assert demo_server.unix in (f"unix:{demo_server.socket_path}",
                                f"unix://{demo_server.socket_path}")
    match = re.fullmatch(r"tcp://127\.0\.0\.1:(\d+)", demo_server.tcp)
    assert match and 0 < int(match.group(1)) <= 65535, demo_server.tcp


# -- health -----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_health(demo_server: DemoServer, transport: str) -> None:
    with connect(demo_server, transport) as client:
        health = client.health(timeout=10)
    assert health.status == SERVING
    assert health.component == "fma-demo"
    assert health.version
    assert {"fma.v1.Demo", "fma.v1.Health"} <= set(health.services)


def test_health_of_one_service(demo_server: DemoServer) -> None:
    with connect(demo_server, "unix") as client:
        assert client.health("fma.v1.Demo", timeout=10).status == SERVING
        with pytest.raises(RPCError) as caught:
            client.health("fma.v1.NoSuchService", timeout=10)
    assert caught.value.code == StatusCode.NOT_FOUND
    assert "fma.v1.NoSuchService" in caught.value.message


# -- echo and count ---------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_echo(demo_server: DemoServer, transport: str) -> None:
    request = demo_pb2.EchoRequest(text="héllo, fma", data=b"\x00\x01\xfe\xff")
    with connect(demo_server, transport) as client:
        reply = client.unary("fma.v1.Demo/Echo", request, demo_pb2.EchoResponse, timeout=10)
    assert reply.text == "héllo, fma"
    assert reply.data == b"\x00\x01\xfe\xff"


def test_echo_of_a_megabyte(demo_server: DemoServer) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    with connect(demo_server, "tcp") as client:
        reply = client.unary("fma.v1.Demo/Echo", demo_pb2.EchoRequest(data=data),
                             demo_pb2.EchoResponse, timeout=20)
    assert reply.data == data


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_count_streams_50_messages(demo_server: DemoServer, transport: str) -> None:
    with connect(demo_server, transport) as client:
        with client.stream("fma.v1.Demo/Count", demo_pb2.CountRequest(count=50),
                           demo_pb2.CountResponse, timeout=20) as responses:
            indices = [response.index for response in responses]
    assert indices == list(range(50))


def test_count_with_per_call_credit(demo_server: DemoServer) -> None:
    request = demo_pb2.CountRequest(count=50, payload_bytes=100)
    with connect(demo_server, "unix") as client:
        with client.stream("fma.v1.Demo/Count", request, demo_pb2.CountResponse,
                           timeout=20, initial_credit=8) as responses:
            received = list(responses)
    assert [response.index for response in received] == list(range(50))
    assert all(len(response.payload) == 100 for response in received)


def test_count_of_zero_ends_ok_with_no_messages(demo_server: DemoServer) -> None:
    with connect(demo_server, "unix") as client:
        responses = client.stream("fma.v1.Demo/Count", demo_pb2.CountRequest(count=0),
                                  demo_pb2.CountResponse, timeout=10)
        assert list(responses) == []


def test_credit_limits_what_the_server_sends(demo_server: DemoServer, raw_connect) -> None:
    conn = raw_connect(demo_server.unix)
    count = demo_pb2.CountRequest(count=10).SerializeToString()
    conn.send(request_frame(1, "fma.v1.Demo/Count", count, initial_credit=3))
    first = [conn.recv_frame() for _ in range(3)]
    assert all(frame.call_id == 1 and frame.WhichOneof("body") == "response" for frame in first)
    with pytest.raises(TimeoutError):  # out of credit: the server must wait
        conn.recv_frame(timeout=0.5)
    conn.send(frame_pb2.Frame(call_id=1, credit=frame_pb2.CallCredit(messages=100)))
    rest = []
    while (frame := conn.recv_frame()).WhichOneof("body") == "response":
        rest.append(demo_pb2.CountResponse.FromString(frame.response.payload).index)
    assert rest == list(range(3, 10))
    assert frame.status.code == frame_pb2.OK


# -- authentication ---------------------------------------------------------------------------


def test_tcp_without_a_token_is_unauthenticated_and_the_connection_stays_open(
        demo_server: DemoServer) -> None:
    with Client.connect(demo_server.tcp) as client:
        with pytest.raises(RPCError) as caught:
            client.health(timeout=10)
        assert caught.value.code == StatusCode.UNAUTHENTICATED
        assert caught.value.message == "missing bearer token"
        # Same connection, now with the token: served.
        health = client.unary("fma.v1.Health/Check", health_pb2.HealthCheckRequest(),
                              health_pb2.HealthCheckResponse, timeout=10,
                              metadata={"authorization": f"Bearer {demo_server.token}"})
        assert health.status == SERVING


WRONG_TOKENS = {
    "other": lambda token: "wrong-token",
    "prefix": lambda token: token[:-1],
    "longer": lambda token: token + "x",
}


@pytest.mark.parametrize("kind", list(WRONG_TOKENS))
def test_tcp_with_a_wrong_token_is_unauthenticated(demo_server: DemoServer, kind: str) -> None:
    token = WRONG_TOKENS[kind](demo_server.token)
    with Client.connect(demo_server.tcp, token=token) as client:
        with pytest.raises(RPCError) as caught:
            client.health(timeout=10)
        assert caught.value.code == StatusCode.UNAUTHENTICATED
        assert caught.value.message == "invalid bearer token"
        with pytest.raises(RPCError) as again:  # and for a stream as well
            list(client.stream("fma.v1.Demo/Count", demo_pb2.CountRequest(count=3),
                               demo_pb2.CountResponse, timeout=10))
        assert again.value.code == StatusCode.UNAUTHENTICATED


def test_unix_ignores_tokens(demo_server: DemoServer) -> None:
    with Client.connect(demo_server.unix, token="not-the-token") as client:
        assert client.health(timeout=10).status == SERVING


# -- cancellation, deadlines, errors ----------------------------------------------------------


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_closing_a_stream_early_then_calling_again(demo_server: DemoServer,
                                                   transport: str) -> None:
    with connect(demo_server, transport) as client:
        request = demo_pb2.CountRequest(count=100_000, interval_ms=10)
        with client.stream("fma.v1.Demo/Count", request, demo_pb2.CountResponse,
                           timeout=30) as responses:
            assert [next(responses).index for _ in range(3)] == [0, 1, 2]
        # The stream is cancelled; the connection serves the next calls.
        assert client.health(timeout=10).status == SERVING
        reply = client.unary("fma.v1.Demo/Echo", demo_pb2.EchoRequest(text="after"),
                             demo_pb2.EchoResponse, timeout=10)
        assert reply.text == "after"
        with client.stream("fma.v1.Demo/Count", demo_pb2.CountRequest(count=5),
                           demo_pb2.CountResponse, timeout=10) as responses:
            assert [response.index for response in responses] == list(range(5))


def test_cancel_ends_the_call_with_cancelled(demo_server: DemoServer, raw_connect) -> None:
    conn = raw_connect(demo_server.unix)
    conn.send(request_frame(1, "fma.v1.Demo/Echo", echo_payload("slow", delay_ms=5000)))
    conn.send(frame_pb2.Frame(call_id=1, cancel=frame_pb2.CallCancel(reason="test")))
    started = time.monotonic()
    frame = conn.recv_frame(timeout=10)
    assert frame.call_id == 1 and frame.WhichOneof("body") == "status"
    assert frame.status.code == frame_pb2.CANCELLED
    assert time.monotonic() - started < 4, "the handler was not stopped"


def test_unknown_method_is_unimplemented(demo_server: DemoServer) -> None:
    with connect(demo_server, "unix") as client:
        for method in ("fma.v1.Nope/Nothing", "fma.v1.Demo/Nothing", "garbage"):
            with pytest.raises(RPCError) as caught:
                client.unary(method, demo_pb2.EchoRequest(), demo_pb2.EchoResponse, timeout=10)
            assert caught.value.code == StatusCode.UNIMPLEMENTED, method
        # The message lists the services that are served.
        assert "fma.v1.Demo" in caught.value.message
        assert client.health(timeout=10).status == SERVING


def test_a_payload_that_does_not_decode_is_invalid_argument(demo_server: DemoServer,
                                                            raw_connect) -> None:
    conn = raw_connect(demo_server.unix)
    conn.send(request_frame(1, "fma.v1.Demo/Echo", b"\x0a\x05ab"))  # text runs past the end
    frame = conn.recv_frame()
    assert frame.call_id == 1 and frame.status.code == frame_pb2.INVALID_ARGUMENT


def test_local_deadline(demo_server: DemoServer) -> None:
    with connect(demo_server, "tcp") as client:
        started = time.monotonic()
        with pytest.raises(RPCError) as caught:
            client.unary("fma.v1.Demo/Echo", demo_pb2.EchoRequest(delay_ms=5000),
                         demo_pb2.EchoResponse, timeout=0.3)
        assert caught.value.code == StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - started < 3
        assert client.health(timeout=10).status == SERVING


def test_server_deadline(demo_server: DemoServer, raw_connect) -> None:
    conn = raw_connect(demo_server.unix)
    started = time.monotonic()
    conn.send(request_frame(1, "fma.v1.Demo/Echo", echo_payload(delay_ms=5000), timeout_ms=200))
    frame = conn.recv_frame(timeout=10)
    assert frame.call_id == 1 and frame.status.code == frame_pb2.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 4


def test_concurrent_calls_on_one_connection(demo_server: DemoServer) -> None:
    results: dict[int, object] = {}
    with connect(demo_server, "tcp") as client:
        def work(number: int) -> None:
            try:
                if number % 2:
                    reply = client.unary("fma.v1.Demo/Echo",
                                         demo_pb2.EchoRequest(text=str(number), delay_ms=50),
                                         demo_pb2.EchoResponse, timeout=20)
                    results[number] = reply.text
                else:
                    responses = client.stream("fma.v1.Demo/Count",
                                              demo_pb2.CountRequest(count=number),
                                              demo_pb2.CountResponse, timeout=20)
                    results[number] = [response.index for response in responses]
            except BaseException as error:
                results[number] = error

        threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    expected = {n: (str(n) if n % 2 else list(range(n))) for n in range(12)}
    assert results == expected


# -- frames a client library would never send -------------------------------------------------


def test_byte_at_a_time_and_several_frames_in_one_write(demo_server: DemoServer,
                                                        raw_connect) -> None:
    conn = raw_connect(demo_server.unix)
    first = encode_frame(request_frame(1, "fma.v1.Demo/Echo", echo_payload("one")))
    for index in range(len(first)):
        conn.send_raw(first[index:index + 1])
        time.sleep(0.001)
    conn.send_raw(encode_frame(request_frame(2, "fma.v1.Demo/Echo", echo_payload("two")))
                  + encode_frame(request_frame(3, "fma.v1.Demo/Echo", echo_payload("three"))))
    texts: dict[int, str] = {}
    statuses: dict[int, int] = {}
    while len(statuses) < 3:
        frame = conn.recv_frame()
        assert frame is not None, "the server closed the connection"
        if frame.WhichOneof("body") == "response":
            texts[frame.call_id] = demo_pb2.EchoResponse.FromString(frame.response.payload).text
        else:
            statuses[frame.call_id] = frame.status.code
    assert texts == {1: "one", 2: "two", 3: "three"}
    assert statuses == {1: frame_pb2.OK, 2: frame_pb2.OK, 3: frame_pb2.OK}


def test_credit_and_cancel_for_calls_not_open_are_ignored(demo_server: DemoServer,
                                                          raw_connect) -> None:
    conn = raw_connect(demo_server.unix)
    conn.send(frame_pb2.Frame(call_id=42, credit=frame_pb2.CallCredit(messages=5)))
    conn.send(frame_pb2.Frame(call_id=43, cancel=frame_pb2.CallCancel(reason="nothing")))
    conn.send(request_frame(1, "fma.v1.Health/Check", b""))
    frame = conn.recv_frame()
    assert frame.call_id == 1 and frame.WhichOneof("body") == "response"


def test_oversized_frame_is_a_connection_error(demo_server: DemoServer, raw_connect) -> None:
    conn = raw_connect(demo_server.tcp)
    conn.send_raw(struct.pack(">I", 5 * 1024 * 1024))  # only the length: no body follows
    frame = conn.recv_frame(timeout=10)
    assert frame is not None, "the server closed the connection without a status"
    assert frame.call_id == 0 and frame.status.code == frame_pb2.RESOURCE_EXHAUSTED
    assert frame.status.message == "frame of 5242880 bytes exceeds the limit of 4194304 bytes"
    assert conn.recv_frame(timeout=10) is None, "the server did not close the connection"
    # Other connections are unaffected.
    with connect(demo_server, "tcp") as client:
        assert client.health(timeout=10).status == SERVING


@pytest.mark.parametrize("body", [
    b"\x08",                        # a tag without its varint
    b"\x12\x10\x0a",                # a request whose length runs past the frame
    b"\x08\x00\x12\x00",            # a request on call id 0
    b"\x08\x01\x1a\x00",            # a response, which a client must not send
    b"\x08\x01\x22\x00",            # a status, which a client must not send
], ids=["truncated-varint", "overlong-field", "call-id-0", "response", "status"])
def test_protocol_violations_are_connection_errors(demo_server: DemoServer, raw_connect,
                                                   body: bytes) -> None:
    conn = raw_connect(demo_server.unix)
    conn.send_raw(struct.pack(">I", len(body)) + body)
    frame = conn.recv_frame(timeout=10)
    assert frame is not None, "the server closed the connection without a status"
    assert frame.call_id == 0 and frame.status.code == frame_pb2.INVALID_ARGUMENT
    assert conn.recv_frame(timeout=10) is None, "the server did not close the connection"


def test_a_reused_call_id_is_a_connection_error(demo_server: DemoServer, raw_connect) -> None:
    conn = raw_connect(demo_server.unix)
    conn.send(request_frame(1, "fma.v1.Demo/Echo", echo_payload(delay_ms=3000)))
    conn.send(request_frame(1, "fma.v1.Demo/Echo", echo_payload()))
    frames = []
    while (frame := conn.recv_frame(timeout=10)) is not None:  # until the server closes
        frames.append(frame)
    connection_errors = [frame.status.code for frame in frames if frame.call_id == 0]
    assert connection_errors == [frame_pb2.INVALID_ARGUMENT], frames


def test_a_frame_with_an_unknown_body_is_ignored(demo_server: DemoServer, raw_connect) -> None:
    conn = raw_connect(demo_server.unix)
    conn.send_raw(b"\0\0\0\x04\x08\x09\x3a\x00")  # call 9, body field 7 (a later version's)
    conn.send(request_frame(1, "fma.v1.Health/Check", b""))
    frame = conn.recv_frame()
    assert frame.call_id == 1 and frame.WhichOneof("body") == "response"


# -- shutting down ----------------------------------------------------------------------------


def test_sigterm_exits_0_and_removes_the_socket(demo_server: DemoServer) -> None:
    assert demo_server.socket_path.exists()
    status = demo_server.stop()
    assert status == 0, f"exit status {status}; the server's output:\n{demo_server.log()}"
    assert not demo_server.socket_path.exists()


# -- order of checks (docs/wire-protocol.md §8) -----------------------------------------------


def test_an_empty_frame_is_ignored_and_the_connection_keeps_serving(
        demo_server: DemoServer, raw_connect) -> None:
    conn = raw_connect(demo_server.unix)
    conn.send_raw(b"\0\0\0\0")  # length 0: a Frame with no body
    conn.send_raw(encode_frame(frame_pb2.Frame(call_id=5)))  # a call id but no body
    conn.send(request_frame(1, "fma.v1.Health/Check", health_pb2.HealthCheckRequest().SerializeToString()))
    frame = conn.recv_frame()
    assert frame is not None and frame.call_id == 1 and frame.WhichOneof("body") == "response"
    assert health_pb2.HealthCheckResponse.FromString(frame.response.payload).status == SERVING


def test_authentication_comes_before_the_method_lookup_and_the_call_limit(
        demo_server: DemoServer, raw_connect) -> None:
    conn = raw_connect(demo_server.tcp)
    # No token and an unknown method: UNAUTHENTICATED, not UNIMPLEMENTED.
    conn.send(request_frame(1, "fma.v1.Nothing/Here", b""))
    frame = conn.recv_frame()
    assert frame is not None and frame.call_id == 1
    assert frame.status.code == StatusCode.UNAUTHENTICATED
    # With the token, the same unknown method: UNIMPLEMENTED, naming what is served.
    conn.send(request_frame(2, "fma.v1.Nothing/Here", b"",
                            metadata={"authorization": f"Bearer {demo_server.token}"}))
    frame = conn.recv_frame()
    assert frame is not None and frame.call_id == 2
    assert frame.status.code == StatusCode.UNIMPLEMENTED
    assert "fma.v1.Demo" in frame.status.message
    # A reused call id is checked before anything else: a connection error on call id 0.
    conn.send(request_frame(3, "fma.v1.Demo/Count",
                            demo_pb2.CountRequest(count=5, interval_ms=1000).SerializeToString(),
                            metadata={"authorization": f"Bearer {demo_server.token}"}))
    conn.send(request_frame(3, "fma.v1.Nothing/Here", b""))
    while (frame := conn.recv_frame()) is not None and frame.call_id != 0:
        pass
    assert frame is not None and frame.status.code == StatusCode.INVALID_ARGUMENT
    assert "call id 3 is already open" in frame.status.message


# -- every connection error is counted, by reason (fma_rpc_connection_errors_total) -----------


def connection_errors(metrics_url: str) -> dict[str, float]:
    """The server's fma_rpc_connection_errors_total by reason, as Prometheus text says."""
    import urllib.request
    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        text = response.read().decode()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(r'fma_rpc_connection_errors_total\{reason="([a-z_]+)"\} (\S+)', line)
        if match:
            counts[match.group(1)] = float(match.group(2))
    return counts


def test_every_connection_error_is_counted_by_reason(short_tmp, raw_connect) -> None:
    from conftest import start_demo_server
    server = start_demo_server(short_tmp, extra_args=[
        "--metrics-listen", "tcp://127.0.0.1:0", "--max-frame-bytes", "1024",
        "--max-buffered-frame-bytes", "4096", "--frame-timeout", "1"])
    try:
        def closed_with_status(conn, code: int) -> None:
            frame = conn.recv_frame()
            while frame is not None and frame.call_id != 0:
                frame = conn.recv_frame()
            assert frame is not None and frame.status.code == code
            assert conn.recv_frame() is None  # then closed

        health = health_pb2.HealthCheckRequest().SerializeToString()
        conn = raw_connect(server.unix)
        conn.send_raw(struct.pack(">I", 5000))  # over --max-frame-bytes
        closed_with_status(conn, StatusCode.RESOURCE_EXHAUSTED)
        conn = raw_connect(server.unix)
        conn.send_raw(struct.pack(">I", 3) + b"\xff\xff\xff")  # not a Frame
        closed_with_status(conn, StatusCode.INVALID_ARGUMENT)
        conn = raw_connect(server.unix)
        conn.send(request_frame(0, "fma.v1.Health/Check", health))
        closed_with_status(conn, StatusCode.INVALID_ARGUMENT)
        conn = raw_connect(server.unix)
        conn.send(request_frame(1, "fma.v1.Demo/Count",
                                demo_pb2.CountRequest(count=5, interval_ms=1000).SerializeToString()))
        conn.send(request_frame(1, "fma.v1.Health/Check", health))
        closed_with_status(conn, StatusCode.INVALID_ARGUMENT)
        conn = raw_connect(server.unix)
        conn.send(frame_pb2.Frame(call_id=1, status=frame_pb2.CallStatus()))
        closed_with_status(conn, StatusCode.INVALID_ARGUMENT)
        conn = raw_connect(server.unix)
        conn.send_raw(struct.pack(">I", 100) + b"\x08")  # a frame that never completes
        closed_with_status(conn, StatusCode.DEADLINE_EXCEEDED)
        # Two unauthenticated TCP connections each start a 1,000-byte frame: whichever the
        # server reads second passes the quarter of --max-buffered-frame-bytes that such
        # connections may hold; the other one's frame then times out.
        first = raw_connect(server.tcp)
        first.send_raw(struct.pack(">I", 1000) + b"\x08")
        second = raw_connect(server.tcp)
        second.send_raw(struct.pack(">I", 1000) + b"\x08")
        codes = []
        for conn in (first, second):
            frame = conn.recv_frame()
            assert frame is not None and frame.call_id == 0
            codes.append(frame.status.code)
        assert sorted(codes) == [StatusCode.DEADLINE_EXCEEDED, StatusCode.RESOURCE_EXHAUSTED]
        # The connection closes in the middle of a frame.
        conn = raw_connect(server.unix)
        conn.send_raw(struct.pack(">I", 50) + b"\x08\x01")
        conn.close()

        expected = {"oversized_frame": 1, "malformed_frame": 1, "reserved_call_id": 1,
                    "duplicate_call_id": 1, "server_side_frame": 1, "frame_timeout": 2,
                    "partial_frame_budget": 1, "truncated_frame": 1}
        deadline = time.monotonic() + 10
        counts = connection_errors(server.metrics)
        while any(counts.get(reason, 0) < n for reason, n in expected.items()) and time.monotonic() < deadline:
            time.sleep(0.05)
            counts = connection_errors(server.metrics)
        for reason, n in expected.items():
            assert counts.get(reason) == n, f"{reason}: {counts}"
    finally:
        server.stop()


def test_a_client_that_writes_a_whole_oversized_frame_before_reading_gets_the_status(
        demo_server: DemoServer, raw_connect) -> None:
    # A simple blocking client: it sends all 16 MiB (over the 4 MiB limit) and only then
    # reads. The server answers on call id 0 at the length prefix, then keeps reading and
    # dropping the rest, so the write completes and the status is there to read (§8).
    for _ in range(2):
        conn = raw_connect(demo_server.tcp)
        frame = request_frame(1, "fma.v1.Demo/Echo", echo_payload("x" * (16 << 20)),
                              metadata={"authorization": f"Bearer {demo_server.token}"})
        conn.send_raw(encode_frame(frame, max_frame_bytes=None))
        answer = conn.recv_frame()
        assert answer is not None and answer.call_id == 0
        assert answer.status.code == StatusCode.RESOURCE_EXHAUSTED
        assert "exceeds the limit of 4194304 bytes" in answer.status.message
        assert conn.recv_frame() is None
