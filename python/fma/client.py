"""A Python client for fma services, speaking the fma wire protocol (docs/wire-protocol.md).

An fma connection is a byte stream over a Unix-domain socket (``unix:/run/fma/launcher.sock``)
or TCP (``tcp://127.0.0.1:7070``, ``tcp://[::1]:7070``). Each unit on it is a frame: a 4-byte
big-endian length followed by one protobuf-encoded ``fma.v1.Frame``. A call sends one request
frame and receives zero or more response frames, then exactly one status frame.

Calling a service::

    from fma.client import Client, RPCError, StatusCode
    from fma.v1 import demo_pb2

    with Client.connect("tcp://127.0.0.1:7070", token="s3cret") as client:
        health = client.health()                       # fma.v1.HealthCheckResponse
        reply = client.unary("fma.v1.Demo/Echo", demo_pb2.EchoRequest(text="hi"),
                             demo_pb2.EchoResponse, timeout=5.0)
        with client.stream("fma.v1.Demo/Count", demo_pb2.CountRequest(count=3),
                           demo_pb2.CountResponse) as responses:
            for response in responses:
                print(response.index)

Failures raise :class:`RPCError`, whose ``code`` is a :class:`StatusCode` (gRPC's codes and
numbers) and whose ``message`` says what went wrong::

    try:
        client.health("fma.v1.Nope")
    except RPCError as error:
        if error.code == StatusCode.NOT_FOUND: ...

How the client maps failures that are not a server's status:

- the socket cannot connect, fails, or the server closes it: ``UNAVAILABLE``, with a message
  that names the address (a failed connect, including one that runs out of ``connect_timeout``,
  is ``UNAVAILABLE`` too: the server could not be reached);
- a call's ``timeout`` passes: ``DEADLINE_EXCEEDED``; the client also sends the server a
  ``CallCancel`` for the call. The timeout is the whole call's deadline (for a stream: until
  its last message), and it is sent to the server as ``timeout_ms`` too;
- the server sends a connection error (a status frame with call id 0): every open call fails
  with that status, and so does every later call on this connection;
- the server sends a frame over the maximum frame size: ``RESOURCE_EXHAUSTED``; bytes that do not
  decode as a frame: ``INTERNAL``. Either ends the connection;
- a request that would make a frame over the maximum frame size: ``RESOURCE_EXHAUSTED``, raised
  before anything is sent (the connection stays usable).

Design. One :class:`Client` owns one connection and one background *reader thread*. The reader
reads frames and hands each to the call it belongs to (by call id) through a per-call queue; the
thread that made the call waits on that queue. Writes go through a lock, so each frame is
written whole. Call ids count up from 1 and are never reused on a connection. Hence a client is
safe to use from several threads at once: each thread's calls proceed independently on the one
connection. A :class:`ResponseStream` belongs to one consumer: iterate it from one thread at a
time. A connection is not re-established after it fails: connect a new :class:`Client`.

Streams and memory. The reader thread buffers each stream's responses until its consumer takes
them, so a slow consumer of a fast, long stream makes the buffer grow. Pass ``initial_credit=N``
to :meth:`Client.stream` to bound it: the server then sends at most ``N`` responses ahead and
the client grants more as the consumer takes them (section 7 of the protocol).

Close what you open: use ``with`` (or call :meth:`Client.close` / :meth:`ResponseStream.close`).
Closing a stream before its end sends the server a ``CallCancel``, so it stops producing.

The frame helpers :func:`encode_frame`, :func:`decode_frames` and :class:`FrameReader` are
public for tests and tools that handle raw frames.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import queue
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from google.protobuf import message as _message

from fma.v1 import frame_pb2, health_pb2

__all__ = [
    "MAX_FRAME_BYTES",
    "Address",
    "Client",
    "FrameError",
    "FrameReader",
    "FrameTooLargeError",
    "RPCError",
    "ResponseStream",
    "StatusCode",
    "TruncatedFrameError",
    "decode_frames",
    "encode_frame",
    "parse_address",
]

#: The default maximum size of a frame's protobuf bytes (the length prefix excluded): 4 MiB.
MAX_FRAME_BYTES = 4 * 1024 * 1024

#: The maximum that the 4-byte length prefix can express.
_MAX_LENGTH_PREFIX = 0xFFFF_FFFF

_LENGTH = struct.Struct(">I")

#: How much the reader thread asks the socket for at a time.
_READ_CHUNK = 64 * 1024

#: How long :meth:`Client.close` waits for the reader thread to finish.
_READER_JOIN_SECONDS = 5.0

HEALTH_CHECK_METHOD = "fma.v1.Health/Check"

M = TypeVar("M", bound=_message.Message)


# --------------------------------------------------------------------------------------------
# Status codes and errors
# --------------------------------------------------------------------------------------------


class StatusCode(enum.IntEnum):
    """gRPC's status codes, with gRPC's numbers (``fma.v1.StatusCode`` in frame.proto)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


def _status_code(number: int) -> StatusCode:
    """The StatusCode numbered ``number``; ``UNKNOWN`` for a number gRPC does not define."""
    try:
        return StatusCode(number)
    except ValueError:
        return StatusCode.UNKNOWN


class RPCError(Exception):
    """A call (or the connection it ran on) ended with a status other than OK.

    Attributes:
        code: the :class:`StatusCode`.
        message: the human-readable message (the server's, or the client's for local failures).
        details: the status's optional string-to-string details, e.g. ``{"field": "id"}``.
    """

    def __init__(self, code: int, message: str = "", details: Mapping[str, str] | None = None):
        self.code = _status_code(code)
        self.message = message
        self.details = dict(details or {})
        super().__init__(f"{self.code.name}: {message}" if message else self.code.name)

    @classmethod
    def from_status(cls, status: frame_pb2.CallStatus) -> RPCError:
        """The error that a ``CallStatus`` frame body describes."""
        error = cls(status.code, status.message, status.details)
        if error.code == StatusCode.UNKNOWN and status.code != StatusCode.UNKNOWN:
            error.message = f"{status.message} (status code {status.code})"
        return error

    def copy(self) -> RPCError:
        """A new exception with the same status (so that each raising thread owns its own)."""
        return RPCError(self.code, self.message, self.details)

    def __repr__(self) -> str:
        return f"RPCError({self.code.name}, {self.message!r}, details={self.details!r})"


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Address:
    """A parsed fma address: a Unix socket path or a TCP host and port.

    ``text`` is the address as given; error messages name it.
    """

    text: str
    scheme: str  # "unix" or "tcp"
    path: str | None = None
    host: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        return self.text


def parse_address(text: str) -> Address:
    """Parses ``unix:PATH``, ``unix://PATH`` or ``tcp://HOST:PORT`` (an IPv6 HOST in brackets).

    Raises:
        ValueError: ``text`` is not an fma address.
    """
    if text.startswith("unix://"):
        path = text[len("unix://"):]
    elif text.startswith("unix:"):
        path = text[len("unix:"):]
    elif text.startswith("tcp://"):
        host, port = _parse_host_port(text, text[len("tcp://"):])
        return Address(text=text, scheme="tcp", host=host, port=port)
    else:
        raise ValueError(
            f"invalid address {text!r}: expected unix:PATH or tcp://HOST:PORT")
    if not path:
        raise ValueError(f"invalid address {text!r}: the Unix socket path is empty")
    if "\0" in path:
        raise ValueError(f"invalid address {text!r}: the path contains a NUL byte")
    return Address(text=text, scheme="unix", path=path)


def _parse_host_port(text: str, rest: str) -> tuple[str, int]:
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise ValueError(f"invalid address {text!r}: missing ']' after the IPv6 host")
        host, after = rest[1:end], rest[end + 1:]
        if not after.startswith(":"):
            raise ValueError(f"invalid address {text!r}: expected ':PORT' after the host")
        port_text = after[1:]
    else:
        host, colon, port_text = rest.rpartition(":")
        if not colon:
            raise ValueError(f"invalid address {text!r}: expected tcp://HOST:PORT")
        if ":" in host:
            raise ValueError(
                f"invalid address {text!r}: write an IPv6 host in brackets, "
                f"e.g. tcp://[::1]:7070")
    if not host:
        raise ValueError(f"invalid address {text!r}: the host is empty")
    if not port_text.isdigit() or not 0 < int(port_text) <= 65535:
        raise ValueError(
            f"invalid address {text!r}: the port must be a number from 1 to 65535")
    return host, int(port_text)


# --------------------------------------------------------------------------------------------
# Framing
# --------------------------------------------------------------------------------------------


class FrameError(ValueError):
    """Bytes that break the framing rules: a frame that does not decode, is too large, or is cut
    short."""


class FrameTooLargeError(FrameError):
    """A frame's length exceeds the maximum frame size (detected from the length prefix alone).
    """

    def __init__(self, length: int, limit: int):
        self.length = length
        self.limit = limit
        super().__init__(f"frame of {length} bytes exceeds the limit of {limit} bytes")


class TruncatedFrameError(FrameError):
    """The input ended in the middle of a frame."""


def encode_frame(frame: frame_pb2.Frame, max_frame_bytes: int | None = MAX_FRAME_BYTES) -> bytes:
    """The complete frame: the 4-byte big-endian length of ``frame``'s protobuf bytes, then them.

    Serialization is deterministic (map entries sorted by key); unknown fields that ``frame``
    was decoded with are written after the known fields, as protobuf does.

    Raises:
        FrameTooLargeError: the encoding exceeds ``max_frame_bytes`` (``None``: only the 4 GiB
            that the length prefix can express).
    """
    body = frame.SerializeToString(deterministic=True)
    limit = _MAX_LENGTH_PREFIX if max_frame_bytes is None else max_frame_bytes
    if len(body) > limit:
        raise FrameTooLargeError(len(body), limit)
    return _LENGTH.pack(len(body)) + body


def decode_frame_body(body: bytes) -> frame_pb2.Frame:
    """Decodes one frame's protobuf bytes (without the length prefix).

    Raises:
        FrameError: ``body`` is not a valid ``fma.v1.Frame``.
    """
    frame = frame_pb2.Frame()
    try:
        frame.ParseFromString(body)
    except _message.DecodeError as error:
        raise FrameError(f"malformed frame: {error}") from None
    return frame


class FrameReader:
    """Cuts a byte stream into frames, however the bytes arrive.

    Feed it bytes as they come (one byte at a time, or several frames at once), then take the
    frames that are complete::

        reader = FrameReader()
        reader.feed(chunk)
        for frame in reader:      # every complete frame buffered so far
            handle(frame)
        ...
        reader.finish()           # at the end of input: raises if a frame was cut short

    A frame's length is checked against ``max_frame_bytes`` as soon as its 4-byte prefix is
    buffered, before any of its body is needed: :class:`FrameTooLargeError` is raised then, and
    again on every later use (the stream cannot be trusted past it).
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES):
        self._max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._start = 0  # where the next frame's length prefix starts in _buffer
        self._error: FrameError | None = None

    @property
    def pending_bytes(self) -> int:
        """Bytes buffered that are not yet part of a returned frame."""
        return len(self._buffer) - self._start

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Appends ``data`` to the buffered input."""
        if self._start:
            del self._buffer[:self._start]
            self._start = 0
        self._buffer += data

    def next_frame(self) -> frame_pb2.Frame | None:
        """The next complete frame, or ``None`` if it has not fully arrived yet.

        Raises:
            FrameTooLargeError: the next frame's length exceeds the maximum.
            FrameError: the next frame's bytes do not decode as an ``fma.v1.Frame``.
        """
        if self._error is not None:
            raise self._error
        if self.pending_bytes < _LENGTH.size:
            return None
        (length,) = _LENGTH.unpack_from(self._buffer, self._start)
        if length > self._max_frame_bytes:
            self._error = FrameTooLargeError(length, self._max_frame_bytes)
            raise self._error
        body_start = self._start + _LENGTH.size
        body_end = body_start + length
        if len(self._buffer) < body_end:
            return None
        body = bytes(self._buffer[body_start:body_end])
        self._start = body_end
        try:
            return decode_frame_body(body)
        except FrameError as error:
            self._error = error
            raise

    def __iter__(self) -> Iterator[frame_pb2.Frame]:
        """Yields every complete frame buffered so far."""
        while (frame := self.next_frame()) is not None:
            yield frame

    def finish(self) -> None:
        """Declares the end of input.

        Raises:
            TruncatedFrameError: bytes of an incomplete frame remain buffered.
        """
        if self._error is not None:
            raise self._error
        if self.pending_bytes:
            raise TruncatedFrameError(
                f"input ends inside a frame ({self.pending_bytes} bytes of it buffered)")


def decode_frames(data: bytes, max_frame_bytes: int = MAX_FRAME_BYTES) -> list[frame_pb2.Frame]:
    """Decodes ``data``, which must hold zero or more complete frames and nothing else.

    Raises:
        FrameTooLargeError, TruncatedFrameError, FrameError: see :class:`FrameReader`.
    """
    reader = FrameReader(max_frame_bytes)
    reader.feed(data)
    frames = list(reader)
    reader.finish()
    return frames


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


class _Call:
    """One open call: what the reader thread hands its frames to."""

    __slots__ = ("call_id", "method", "timeout", "deadline", "queue")

    def __init__(self, call_id: int, method: str, timeout: float | None):
        self.call_id = call_id
        self.method = method
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        # Items: response and status Frames, or an RPCError when the connection failed.
        self.queue: queue.SimpleQueue[frame_pb2.Frame | RPCError] = queue.SimpleQueue()


class Client:
    """One connection to an fma server; many calls may run on it at once (from any threads).

    Create it with :meth:`connect`; close it with :meth:`close` or a ``with`` block.
    """

    def __init__(self, sock: socket.socket, address: Address, token: str | None = None,
                 max_frame_bytes: int = MAX_FRAME_BYTES):
        """Wraps a connected socket. Prefer :meth:`connect`."""
        self._sock = sock
        self._address = address
        self._token = token
        self._max_frame_bytes = max_frame_bytes
        self._lock = threading.Lock()        # guards _calls, _next_call_id and _error
        self._write_lock = threading.Lock()  # one frame written at a time
        self._calls: dict[int, _Call] = {}
        self._next_call_id = 1
        self._error: RPCError | None = None  # set once the connection is unusable
        self._reader = threading.Thread(
            target=self._read_loop, name=f"fma-client-reader {address}", daemon=True)
        self._reader.start()

    @classmethod
    def connect(cls, address: str, token: str | None = None, connect_timeout: float = 5.0,
                max_frame_bytes: int = MAX_FRAME_BYTES) -> Client:
        """Connects to ``address`` (``unix:PATH``, ``unix://PATH`` or ``tcp://HOST:PORT``).

        ``token``, if given, is sent with every call as metadata ``authorization: Bearer TOKEN``
        (TCP listeners require it; Unix sockets ignore it).

        Raises:
            ValueError: ``address`` is not an fma address.
            RPCError: ``UNAVAILABLE`` when the connection cannot be made within
                ``connect_timeout`` seconds.
        """
        parsed = parse_address(address)
        try:
            if parsed.scheme == "unix":
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(connect_timeout)
                    sock.connect(parsed.path)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection((parsed.host, parsed.port), connect_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(None)
        except TimeoutError:
            raise RPCError(StatusCode.UNAVAILABLE,
                           f"timed out connecting to {address} after {connect_timeout:g} s"
                           ) from None
        except OSError as error:
            raise RPCError(StatusCode.UNAVAILABLE,
                           f"cannot connect to {address}: {_describe(error)}") from None
        return cls(sock, parsed, token, max_frame_bytes)

    @property
    def address(self) -> Address:
        """The address this client connected to."""
        return self._address

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<fma.Client {self._address}>"

    # -- calls -----------------------------------------------------------------------------

    def unary(self, method: str, request: _message.Message, response_type: type[M],
              timeout: float | None = None,
              metadata: Mapping[str, str] | None = None) -> M:
        """Calls a unary ``method`` ("package.Service/Method") and returns its response.

        Args:
            request: the request message.
            response_type: the response message class, e.g. ``demo_pb2.EchoResponse``.
            timeout: seconds until the call's deadline (``None``: no deadline).
            metadata: more metadata entries (lower-case keys).

        Raises:
            RPCError: the call did not end with OK (see the module documentation).
        """
        call = self._open_call(method, request, timeout, metadata, initial_credit=0)
        response: M | None = None
        try:
            while True:
                frame = self._next_frame(call)
                if frame.WhichOneof("body") == "response":
                    if response is not None:
                        raise RPCError(StatusCode.INTERNAL,
                                       f"{method} is unary but the server sent more than one "
                                       f"response")
                    response = _decode_payload(method, frame.response.payload, response_type)
                    continue
                if frame.status.code != StatusCode.OK:
                    raise RPCError.from_status(frame.status)
                if response is None:
                    raise RPCError(StatusCode.INTERNAL,
                                   f"{method} ended OK without a response")
                return response
        finally:
            self._end_call(call, "the client abandoned the call")

    def stream(self, method: str, request: _message.Message, response_type: type[M],
               timeout: float | None = None, metadata: Mapping[str, str] | None = None,
               initial_credit: int = 0) -> ResponseStream[M]:
        """Calls a server-streaming ``method``; returns an iterator of its responses.

        The request is sent at once. Iterating yields each response message and ends when the
        call ends OK; a call that ends otherwise raises :class:`RPCError` from the iteration.
        Closing the stream before its end (``close()``, or leaving its ``with`` block) cancels
        the call on the server.

        Args:
            timeout: seconds until the deadline of the whole call (``None``: no deadline).
            initial_credit: if positive, the server sends at most this many responses before
                the client grants more; the client grants them as responses are consumed.
                ``0``: no per-call limit.
        """
        if not 0 <= initial_credit <= 0xFFFF_FFFF:
            raise ValueError("initial_credit must be from 0 to 2**32-1")
        call = self._open_call(method, request, timeout, metadata, initial_credit)
        return ResponseStream(self, call, response_type, initial_credit)

    def health(self, service: str = "", timeout: float | None = None
               ) -> health_pb2.HealthCheckResponse:
        """Calls ``fma.v1.Health/Check``: about the whole server, or about ``service``."""
        return self.unary(HEALTH_CHECK_METHOD, health_pb2.HealthCheckRequest(service=service),
                          health_pb2.HealthCheckResponse, timeout=timeout)

    def close(self) -> None:
        """Closes the connection. Calls still open fail with ``CANCELLED``. Idempotent."""
        self._fail(RPCError(StatusCode.CANCELLED,
                            f"the connection to {self._address} was closed by the client"))
        if threading.current_thread() is not self._reader:
            self._reader.join(_READER_JOIN_SECONDS)
        self._sock.close()

    # -- internals -------------------------------------------------------------------------

    def _open_call(self, method: str, request: _message.Message, timeout: float | None,
                   metadata: Mapping[str, str] | None, initial_credit: int) -> _Call:
        """Registers a new call and sends its request frame."""
        if not isinstance(request, _message.Message):
            raise TypeError(f"request must be a protobuf message, not {type(request).__name__}")
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds or None, "
                             f"not {timeout!r}")
        call_request = frame_pb2.CallRequest(
            method=method,
            payload=request.SerializeToString(deterministic=True),
            initial_credit=initial_credit,
        )
        if metadata:
            call_request.metadata.update(metadata)
        if self._token is not None:
            call_request.metadata["authorization"] = f"Bearer {self._token}"
        if timeout is not None:
            call_request.timeout_ms = max(1, math.ceil(timeout * 1000))

        with self._lock:
            if self._error is not None:
                raise self._error.copy()
            call = _Call(self._next_call_id, method, timeout)
            self._next_call_id += 1
            self._calls[call.call_id] = call
        frame = frame_pb2.Frame(call_id=call.call_id, request=call_request)
        try:
            data = encode_frame(frame, self._max_frame_bytes)
        except FrameTooLargeError as error:
            self._forget(call)
            raise RPCError(StatusCode.RESOURCE_EXHAUSTED,
                           f"the request to {method} makes a frame of {error.length} bytes, "
                           f"over the limit of {error.limit} bytes") from None
        try:
            self._write(data)
        except OSError as error:
            failure = RPCError(StatusCode.UNAVAILABLE,
                               f"the connection to {self._address} failed: {_describe(error)}")
            self._fail(failure)
            raise failure.copy() from None
        return call

    def _next_frame(self, call: _Call) -> frame_pb2.Frame:
        """The call's next response or status frame, waiting at most until its deadline.

        Raises:
            RPCError: the deadline passed (the call is then cancelled) or the connection failed.
        """
        try:
            if call.deadline is None:
                item = call.queue.get()
            else:
                item = call.queue.get(timeout=max(0.0, call.deadline - time.monotonic()))
        except queue.Empty:
            self._end_call(call, "deadline exceeded")
            raise RPCError(StatusCode.DEADLINE_EXCEEDED,
                           f"{call.method} did not finish within {call.timeout:g} s") from None
        if isinstance(item, RPCError):
            raise item.copy()
        return item

    def _end_call(self, call: _Call, cancel_reason: str) -> None:
        """Forgets ``call``; if it had not ended yet, tells the server to cancel it."""
        if self._forget(call):
            self._send_quietly(frame_pb2.Frame(
                call_id=call.call_id, cancel=frame_pb2.CallCancel(reason=cancel_reason)))

    def _forget(self, call: _Call) -> bool:
        """Removes ``call`` from the open calls; whether it was still open."""
        with self._lock:
            return self._calls.pop(call.call_id, None) is not None

    def _grant_credit(self, call: _Call, messages: int) -> None:
        with self._lock:
            if call.call_id not in self._calls:
                return
        self._send_quietly(frame_pb2.Frame(
            call_id=call.call_id, credit=frame_pb2.CallCredit(messages=messages)))

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            self._sock.sendall(data)

    def _send_quietly(self, frame: frame_pb2.Frame) -> None:
        """Sends a cancel or credit frame. A failure to send is not this call's to report: the
        reader thread notices a broken connection and fails every open call."""
        try:
            self._write(encode_frame(frame, None))
        except OSError:
            pass

    def _fail(self, error: RPCError) -> None:
        """Marks the connection unusable with ``error`` and fails every open call with it.

        The first error wins: later calls of this method only shut the socket down again."""
        with self._lock:
            if self._error is None:
                self._error = error
            calls = list(self._calls.values())
            self._calls.clear()
        for call in calls:
            call.queue.put(error)
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reader thread
        except OSError:
            pass

    def _read_loop(self) -> None:
        """The reader thread: reads frames until the connection ends, dispatching each."""
        reader = FrameReader(self._max_frame_bytes)
        address = self._address
        try:
            while True:
                data = self._sock.recv(_READ_CHUNK)
                if not data:
                    if reader.pending_bytes:
                        error = RPCError(StatusCode.UNAVAILABLE,
                                         f"the connection to {address} closed in the middle "
                                         f"of a frame")
                    else:
                        error = RPCError(StatusCode.UNAVAILABLE,
                                         f"the connection to {address} was closed by the "
                                         f"server")
                    break
                reader.feed(data)
                error = None
                for frame in reader:
                    error = self._dispatch(frame)
                    if error is not None:
                        break
                if error is not None:
                    break
        except FrameTooLargeError as too_large:
            error = RPCError(StatusCode.RESOURCE_EXHAUSTED,
                             f"{address} sent a frame of {too_large.length} bytes, over the "
                             f"limit of {too_large.limit} bytes")
        except FrameError as malformed:
            error = RPCError(StatusCode.INTERNAL, f"{address} sent a {malformed}")
        except OSError as os_error:
            error = RPCError(StatusCode.UNAVAILABLE,
                             f"the connection to {address} failed: {_describe(os_error)}")
        except Exception as unexpected:  # a bug here must not leave calls waiting forever
            error = RPCError(StatusCode.INTERNAL,
                             f"the client's reader for {address} failed: {unexpected!r}")
        self._fail(error)

    def _dispatch(self, frame: frame_pb2.Frame) -> RPCError | None:
        """Hands ``frame`` to its call; returns the error if it is a connection error.

        Frames for calls that are no longer open (abandoned after a deadline, say) are dropped,
        as are frames with a body a server does not send (or that this client does not know).
        """
        body = frame.WhichOneof("body")
        if frame.call_id == 0:
            return RPCError.from_status(frame.status) if body == "status" else None
        if body not in ("response", "status"):
            return None
        with self._lock:
            call = self._calls.get(frame.call_id)
            if call is None:
                return None
            if body == "status":
                del self._calls[frame.call_id]
        call.queue.put(frame)
        return None


class ResponseStream(Generic[M]):
    """The responses of a server-streaming call, as an iterator. See :meth:`Client.stream`.

    Iterate it from one thread at a time. ``close()`` (or leaving a ``with`` block) before the
    end cancels the call on the server; after the end it does nothing.
    """

    def __init__(self, client: Client, call: _Call, response_type: type[M], initial_credit: int):
        self._client = client
        self._call = call
        self._response_type = response_type
        self._initial_credit = initial_credit
        self._grant_every = max(1, initial_credit // 2)
        self._consumed = 0  # responses taken since the last credit grant
        self._done = False

    @property
    def call_id(self) -> int:
        """The id of the call on its connection."""
        return self._call.call_id

    def __iter__(self) -> ResponseStream[M]:
        return self

    def __next__(self) -> M:
        if self._done:
            raise StopIteration
        try:
            frame = self._client._next_frame(self._call)
        except RPCError:
            self._done = True
            raise
        if frame.WhichOneof("body") == "status":
            self._done = True
            if frame.status.code == StatusCode.OK:
                raise StopIteration
            raise RPCError.from_status(frame.status)
        try:
            response = _decode_payload(self._call.method, frame.response.payload,
                                       self._response_type)
        except RPCError:
            self.cancel("the client could not decode a response")
            raise
        if self._initial_credit:
            self._consumed += 1
            if self._consumed >= self._grant_every:
                self._client._grant_credit(self._call, self._consumed)
                self._consumed = 0
        return response

    def cancel(self, reason: str = "cancelled by the client") -> None:
        """Ends the call now, telling the server ``reason`` if the call was still open."""
        if not self._done:
            self._done = True
            self._client._end_call(self._call, reason)

    def close(self) -> None:
        """Cancels the call if it has not ended."""
        self.cancel("the client closed the stream")

    def __enter__(self) -> ResponseStream[M]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _decode_payload(method: str, payload: bytes, response_type: type[M]) -> M:
    try:
        return response_type.FromString(payload)
    except _message.DecodeError as error:
        raise RPCError(StatusCode.INTERNAL,
                       f"a response of {method} does not decode as "
                       f"{response_type.DESCRIPTOR.full_name}: {error}") from None


def _describe(error: OSError) -> str:
    """A short description of a socket error, e.g. 'Connection refused'."""
    if isinstance(error, socket.gaierror) or not error.strerror:
        return str(error)
    return error.strerror
