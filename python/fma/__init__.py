"""fma: the Python client of fast model actuation's services.

``fma.client`` implements the fma wire protocol (docs/wire-protocol.md): calls over Unix-domain
and TCP sockets, framed protobuf messages, bearer tokens, deadlines, cancellation and stream
flow control. ``fma.v1`` holds the protobuf bindings generated from proto/ (never edit them;
``scripts/gen-proto.sh`` regenerates them).

Quick start::

    from fma import Client
    with Client.connect("unix:/run/fma/launcher.sock") as client:
        print(client.health())

From a shell: ``python3 -m fma health tcp://127.0.0.1:7070 --token-file token``
(``python3 -m fma --help`` lists the commands).
"""

from fma.client import (
    MAX_FRAME_BYTES,
    Address,
    Client,
    FrameError,
    FrameReader,
    FrameTooLargeError,
    ResponseStream,
    RPCError,
    StatusCode,
    TruncatedFrameError,
    decode_frames,
    encode_frame,
    parse_address,
)

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
