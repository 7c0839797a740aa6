"""The client against scripted fake servers: what it sends, and how it handles what comes back
(including server behaviour the real server rarely shows: connection errors, oversized frames,
a connection closed mid-call)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fma.client import (
    Client,
    RPCError,
    StatusCode,
    parse_address,
)
from fma.v1 import demo_pb2, frame_pb2, health_pb2

if TYPE_CHECKING:
    from conftest import FakeConnection

SERVING = health_pb2.HealthCheckResponse(
    status=health_pb2.HealthCheckResponse.SERVING, component="fake", version="9",
    uptime_ms=5, services=["fma.v1.Health"])


def respond(conn: FakeConnection, call_id: int, *messages: object,
            code: int = frame_pb2.OK, message: str = "") -> None:
    """Sends each message as a response of ``call_id``, then the status."""
    for item in messages:
        conn.send(frame_pb2.Frame(call_id=call_id, response=frame_pb2.CallResponse(
            payload=item.SerializeToString())))
    conn.send(frame_pb2.Frame(call_id=call_id, status=frame_pb2.CallStatus(
        code=code, message=message)))


def health_server(conn: FakeConnection) -> None:
    """Answers every request with SERVING, until the client closes."""
    while (frame := conn.recv_frame()) is not None:
        if frame.WhichOneof("body") == "request":
            respond(conn, frame.call_id, SERVING)


# -- addresses and codes ---------------------------------------------------------------------


@pytest.mark.parametrize("text, scheme, where", [
    ("unix:/run/fma/launcher.sock", "unix", "/run/fma/launcher.sock"),
    ("unix:relative.sock", "unix", "relative.sock"),
    ("unix:///tmp/x.sock", "unix", "/tmp/x.sock"),
    ("unix://run/x.sock", "unix", "run/x.sock"),
    ("tcp://127.0.0.1:7070", "tcp", ("127.0.0.1", 7070)),
    ("tcp://[::1]:7070", "tcp", ("::1", 7070)),
    ("tcp://localhost:1", "tcp", ("localhost", 1)),
])
def test_parse_address(text: str, scheme: str, where: object) -> None:
    address = parse_address(text)
    assert address.scheme == scheme
    assert str(address) == text
    if scheme == "unix":
        assert address.path == where
    else:
        assert (address.host, address.port) == where


@pytest.mark.parametrize("text", [
    "", "/tmp/x.sock", "unix:", "unix://", "http://127.0.0.1:80", "tcp://127.0.0.1",
    "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536", "tcp://127.0.0.1:x", "tcp://:7070",
    "tcp://::1:7070", "tcp://[::1]7070", "tcp://[::1:7070", "tcp://127.0.0.1:7070/",
])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid address"):
        parse_address(text)


def test_status_codes_are_grpc_codes() -> None:
    proto_codes = {value.name: value.number
                   for value in frame_pb2.DESCRIPTOR.enum_types_by_name["StatusCode"].values}
    assert {code.name: code.value for code in StatusCode} == proto_codes
    assert StatusCode.UNAUTHENTICATED == 16 and StatusCode.NOT_FOUND.name == "NOT_FOUND"


def test_rpc_error() -> None:
    error = RPCError(StatusCode.NOT_FOUND, "no such thing", {"field": "id"})
    assert str(error) == "NOT_FOUND: no such thing"
    assert error.code is StatusCode.NOT_FOUND and error.details == {"field": "id"}
    assert RPCError(99, "odd").code is StatusCode.UNKNOWN


# -- connecting --------------------------------------------------------------------------------


def test_connect_to_a_missing_socket_is_unavailable(short_tmp: Path) -> None:
    address = f"unix:{short_tmp}/nothing.sock"
    with pytest.raises(RPCError) as caught:
        Client.connect(address)
    assert caught.value.code == StatusCode.UNAVAILABLE
    assert address in caught.value.message


def test_connect_refused_is_unavailable() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens on that port now
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(RPCError) as caught:
        Client.connect(address, connect_timeout=2)
    assert caught.value.code == StatusCode.UNAVAILABLE
    assert address in caught.value.message


def test_connect_rejects_a_bad_address() -> None:
    with pytest.raises(ValueError):
        Client.connect("localhost:7070")


# -- what the client sends --------------------------------------------------------------------


def test_requests_carry_ids_token_deadline_and_payload(fake_server) -> None:
    received: list[frame_pb2.Frame] = []

    def handler(conn: FakeConnection) -> None:
        while (frame := conn.recv_frame()) is not None:
            received.append(frame)
            respond(conn, frame.call_id, SERVING)

    server = fake_server(handler)
    with Client.connect(server.address, token="s3cret") as client:
        assert client.health("fma.v1.Demo", timeout=2.5) == SERVING
        assert client.health() == SERVING
        client.unary("fma.v1.Demo/Echo", demo_pb2.EchoRequest(text="x"),
                     health_pb2.HealthCheckResponse, metadata={"x-trace": "abc"})

    assert [frame.call_id for frame in received] == [1, 2, 3]
    first = received[0].request
    assert first.method == "fma.v1.Health/Check"
    assert dict(first.metadata) == {"authorization": "Bearer s3cret"}
    assert first.timeout_ms == 2500
    assert health_pb2.HealthCheckRequest.FromString(first.payload).service == "fma.v1.Demo"
    assert received[1].request.timeout_ms == 0
    assert dict(received[2].request.metadata) == {
        "authorization": "Bearer s3cret", "x-trace": "abc"}


def test_no_token_no_authorization(fake_server) -> None:
    received: list[frame_pb2.Frame] = []

    def handler(conn: FakeConnection) -> None:
        frame = conn.recv_frame()
        received.append(frame)
        respond(conn, frame.call_id, SERVING)

    with Client.connect(fake_server(handler).address) as client:
        client.health()
    assert dict(received[0].request.metadata) == {}


def test_a_too_large_request_fails_locally(fake_server) -> None:
    with Client.connect(fake_server(health_server).address) as client:
        with pytest.raises(RPCError) as caught:
            client.unary("fma.v1.Demo/Echo", demo_pb2.EchoRequest(data=b"x" * (5 << 20)),
                         demo_pb2.EchoResponse)
        assert caught.value.code == StatusCode.RESOURCE_EXHAUSTED
        assert client.health() == SERVING  # nothing was sent; the connection is fine


# -- calls and their outcomes -----------------------------------------------------------------


def test_error_status_raises_with_code_message_and_details(fake_server) -> None:
    def handler(conn: FakeConnection) -> None:
        frame = conn.recv_frame()
        conn.send(frame_pb2.Frame(call_id=frame.call_id, status=frame_pb2.CallStatus(
            code=frame_pb2.NOT_FOUND, message='no instance "café"', details={"field": "id"})))

    with Client.connect(fake_server(handler).address) as client:
        with pytest.raises(RPCError) as caught:
            client.health()
    assert caught.value.code == StatusCode.NOT_FOUND
    assert caught.value.message == 'no instance "café"'
    assert caught.value.details == {"field": "id"}


def test_unary_ok_without_a_response_is_internal(fake_server) -> None:
    def handler(conn: FakeConnection) -> None:
        respond(conn, conn.recv_frame().call_id)

    with Client.connect(fake_server(handler).address) as client:
        with pytest.raises(RPCError) as caught:
            client.health()
    assert caught.value.code == StatusCode.INTERNAL


def test_stream_yields_every_response(fake_server) -> None:
    def handler(conn: FakeConnection) -> None:
        frame = conn.recv_frame()
        count = demo_pb2.CountRequest.FromString(frame.request.payload).count
        respond(conn, frame.call_id, *(demo_pb2.CountResponse(index=i) for i in range(count)))

    with Client.connect(fake_server(handler).address) as client:
        with client.stream("fma.v1.Demo/Count", demo_pb2.CountRequest(count=5),
                           demo_pb2.CountResponse) as responses:
            assert [response.index for response in responses] == [0, 1, 2, 3, 4]


def test_stream_failing_midway_raises_after_its_responses(fake_server) -> None:
    def handler(conn: FakeConnection) -> None:
        respond(conn, conn.recv_frame().call_id, demo_pb2.CountResponse(index=0),
                code=frame_pb2.ABORTED, message="gave up")

    with Client.connect(fake_server(handler).address) as client:
        responses = client.stream("fma.v1.Demo/Count", demo_pb2.CountRequest(count=5),
                                  demo_pb2.CountResponse)
        assert next(responses).index == 0
        with pytest.raises(RPCError) as caught:
            next(responses)
        assert caught.value.code == StatusCode.ABORTED
        with pytest.raises(StopIteration):
            next(responses)


def test_closing_a_stream_early_sends_a_cancel(fake_server) -> None:
    cancels: list[frame_pb2.Frame] = []

    def handler(conn: FakeConnection) -> None:
        request = conn.recv_frame()
        for index in range(3):
            conn.send(frame_pb2.Frame(call_id=request.call_id, response=frame_pb2.CallResponse(
                payload=demo_pb2.CountResponse(index=index).SerializeToString())))
        cancel = conn.recv_frame()
        cancels.append(cancel)
        conn.send(frame_pb2.Frame(call_id=request.call_id,
                                  status=frame_pb2.CallStatus(code=frame_pb2.CANCELLED)))
        health_server(conn)

    with Client.connect(fake_server(handler).address) as client:
        with client.stream("fma.v1.Demo/Count", demo_pb2.CountRequest(count=100),
                           demo_pb2.CountResponse) as responses:
            assert next(responses).index == 0
        assert client.health() == SERVING
    assert len(cancels) == 1
    assert cancels[0].call_id == 1 and cancels[0].WhichOneof("body") == "cancel"


def test_stream_credit_is_granted_as_responses_are_consumed(fake_server) -> None:
    granted: list[int] = []

    def handler(conn: FakeConnection) -> None:
        request = conn.recv_frame()
        credit = request.request.initial_credit
        sent = 0
        while sent < 20:
            while credit == 0:  # the client must grant more before we may send
                frame = conn.recv_frame()
                assert frame.WhichOneof("body") == "credit" and frame.call_id == request.call_id
                granted.append(frame.credit.messages)
                credit += frame.credit.messages
            conn.send(frame_pb2.Frame(call_id=request.call_id, response=frame_pb2.CallResponse(
                payload=demo_pb2.CountResponse(index=sent).SerializeToString())))
            sent += 1
            credit -= 1
        respond(conn, request.call_id)

    with Client.connect(fake_server(handler).address) as client:
        responses = client.stream("fma.v1.Demo/Count", demo_pb2.CountRequest(count=20),
                                  demo_pb2.CountResponse, timeout=10, initial_credit=4)
        assert [response.index for response in responses] == list(range(20))
    assert granted and all(messages > 0 for messages in granted)


def test_deadline_exceeded_cancels_the_call(fake_server) -> None:
    cancels: list[frame_pb2.Frame] = []

    def handler(conn: FakeConnection) -> None:
        conn.recv_frame()  # never answered
        cancels.append(conn.recv_frame())
        health_server(conn)

    with Client.connect(fake_server(handler).address) as client:
        started = time.monotonic()
        with pytest.raises(RPCError) as caught:
            client.health(timeout=0.3)
        elapsed = time.monotonic() - started
        assert caught.value.code == StatusCode.DEADLINE_EXCEEDED
        assert 0.25 <= elapsed < 30  # without the deadline the call would hang
        assert client.health(timeout=5) == SERVING  # the connection still works
    assert cancels[0].call_id == 1 and cancels[0].WhichOneof("body") == "cancel"


def test_connection_error_fails_open_and_later_calls(fake_server) -> None:
    def handler(conn: FakeConnection) -> None:
        conn.recv_frame()
        conn.send(frame_pb2.Frame(call_id=0, status=frame_pb2.CallStatus(
            code=frame_pb2.INVALID_ARGUMENT, message="malformed frame: whatever")))

    with Client.connect(fake_server(handler).address) as client:
        with pytest.raises(RPCError) as caught:
            client.health(timeout=5)
        assert caught.value.code == StatusCode.INVALID_ARGUMENT
        assert caught.value.message == "malformed frame: whatever"
        with pytest.raises(RPCError) as later:
            client.health(timeout=5)
        assert later.value.code == StatusCode.INVALID_ARGUMENT


def test_server_closing_mid_call_is_unavailable(fake_server) -> None:
    def handler(conn: FakeConnection) -> None:
        conn.recv_frame()  # then the handler returns and the connection closes

    server = fake_server(handler)
    with Client.connect(server.address) as client:
        with pytest.raises(RPCError) as caught:
            client.health(timeout=5)
    assert caught.value.code == StatusCode.UNAVAILABLE
    assert server.address in caught.value.message


def test_oversized_frame_from_the_server_fails_without_waiting_for_its_body(fake_server) -> None:
    release = threading.Event()

    def handler(conn: FakeConnection) -> None:
        conn.recv_frame()
        conn.send_raw(struct.pack(">I", 4 * 1024 * 1024 + 1))  # and no body, ever
        release.wait(10)

    with Client.connect(fake_server(handler).address) as client:
        with pytest.raises(RPCError) as caught:
            client.health(timeout=5)
    release.set()
    assert caught.value.code == StatusCode.RESOURCE_EXHAUSTED
    assert "4194305" in caught.value.message


def test_malformed_frame_from_the_server_is_internal(fake_server) -> None:
    def handler(conn: FakeConnection) -> None:
        conn.recv_frame()
        conn.send_raw(b"\0\0\0\x01\x08")

    with Client.connect(fake_server(handler).address) as client:
        with pytest.raises(RPCError) as caught:
            client.health(timeout=5)
    assert caught.value.code == StatusCode.INTERNAL


def test_frames_for_unknown_calls_and_unknown_bodies_are_ignored(fake_server) -> None:
    def handler(conn: FakeConnection) -> None:
        frame = conn.recv_frame()
        respond(conn, 999, SERVING)  # no such call
        conn.send_raw(b"\0\0\0\x04\x08\x01\x3a\x00")  # call 1, body field 7 (a later version's)
        respond(conn, frame.call_id, SERVING)

    with Client.connect(fake_server(handler).address) as client:
        assert client.health(timeout=5) == SERVING


def test_concurrent_calls_from_threads_get_their_own_responses(fake_server) -> None:
    threads_count = 8

    def handler(conn: FakeConnection) -> None:
        requests = [conn.recv_frame() for _ in range(threads_count)]
        for frame in reversed(requests):  # answer in the opposite order
            text = demo_pb2.EchoRequest.FromString(frame.request.payload).text
            respond(conn, frame.call_id, demo_pb2.EchoResponse(text=text))

    results: dict[int, str] = {}
    errors: list[BaseException] = []
    with Client.connect(fake_server(handler).address) as client:
        def call(number: int) -> None:
            try:
                reply = client.unary("fma.v1.Demo/Echo", demo_pb2.EchoRequest(text=str(number)),
                                     demo_pb2.EchoResponse, timeout=10)
                results[number] = reply.text
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=call, args=(n,)) for n in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
    assert not errors
    assert results == {n: str(n) for n in range(threads_count)}


def test_close_fails_calls_in_flight_with_cancelled(fake_server) -> None:
    got_request = threading.Event()

    def handler(conn: FakeConnection) -> None:
        conn.recv_frame()
        got_request.set()
        conn.recv_frame()  # until the client closes

    client = Client.connect(fake_server(handler).address)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            client.health()
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    assert got_request.wait(5)
    client.close()
    thread.join(5)
    assert not thread.is_alive()
    assert isinstance(outcome[0], RPCError) and outcome[0].code == StatusCode.CANCELLED
    with pytest.raises(RPCError):
        client.health()
    client.close()  # idempotent


def test_bad_arguments(fake_server) -> None:
    with Client.connect(fake_server(health_server).address) as client:
        with pytest.raises(ValueError):
            client.health(timeout=0)
        with pytest.raises(TypeError):
            client.unary("fma.v1.Demo/Echo", b"raw", demo_pb2.EchoResponse)
        assert client.health() == SERVING
