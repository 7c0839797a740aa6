#!/usr/bin/env python3
"""Writes the golden frames, Tests/Golden/*.frame, and their description, Tests/Golden/README.md.

A golden frame is a complete frame as it travels on a connection: the 4-byte big-endian length,
then one protobuf-encoded fma.v1.Frame (docs/wire-protocol.md, section 2). The Swift, C and
Python test suites decode every one and re-encode it, and must get the same bytes back; so every
frame here is encoded canonically: fields in field-number order, proto3 defaults left out, maps
with a single entry (so no implementation's map ordering matters), unknown fields last.

Usage:
    scripts/make-golden.py              # (re)write Tests/Golden
    scripts/make-golden.py --out DIR    # write into DIR instead
    scripts/make-golden.py --check      # exit 1 if Tests/Golden differs from what this makes

Run it again only when the golden set itself should change: the files are the reference that
every implementation is tested against, not a build product.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

from google.protobuf import text_format  # noqa: E402
from google.protobuf.message import Message  # noqa: E402

from fma.client import decode_frames, encode_frame  # noqa: E402
from fma.v1 import demo_pb2, frame_pb2, health_pb2  # noqa: E402

DEFAULT_OUT = ROOT / "Tests" / "Golden"


@dataclasses.dataclass
class Golden:
    """One golden frame and what it is for."""

    name: str
    summary: str
    frame: frame_pb2.Frame
    # The message inside the frame's request or response payload, if there is one.
    payload: Message | None = None
    # An unknown varint field appended after the known fields: (field number, value).
    unknown_varint: tuple[int, int] | None = None

    def encode(self) -> bytes:
        """The complete frame: length prefix and protobuf bytes."""
        body = self.frame.SerializeToString(deterministic=True)
        if self.unknown_varint is not None:
            number, value = self.unknown_varint
            body += varint(number << 3) + varint(value)
        return len(body).to_bytes(4, "big") + body


def varint(value: int) -> bytes:
    """Protobuf's base-128 varint encoding of a non-negative integer."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def request_frame(call_id: int, method: str, payload: Message, **fields: object) -> frame_pb2.Frame:
    request = frame_pb2.CallRequest(
        method=method, payload=payload.SerializeToString(deterministic=True), **fields)
    return frame_pb2.Frame(call_id=call_id, request=request)


def response_frame(call_id: int, payload: Message) -> frame_pb2.Frame:
    response = frame_pb2.CallResponse(payload=payload.SerializeToString(deterministic=True))
    return frame_pb2.Frame(call_id=call_id, response=response)


def goldens() -> list[Golden]:
    """The golden set, in the order README.md lists it."""
    health_request = health_pb2.HealthCheckRequest(service="fma.v1.Demo")
    health_response = health_pb2.HealthCheckResponse(
        status=health_pb2.HealthCheckResponse.SERVING, component="fma-demo", version="0.1.0",
        uptime_ms=1234, services=["fma.v1.Demo", "fma.v1.Health"])
    count_request = demo_pb2.CountRequest(count=100, interval_ms=10)
    echo_response = demo_pb2.EchoResponse(text="hello", data=b"\x00\x01\xfe\xff")

    ok = frame_pb2.Frame(call_id=1)
    ok.status.SetInParent()  # code OK, no message: an empty CallStatus, still present

    return [
        Golden("health_check_request.frame",
               "A client opens call 1: `fma.v1.Health/Check` about `fma.v1.Demo`, with a "
               "bearer token and a 5 s deadline.",
               request_frame(1, "fma.v1.Health/Check", health_request,
                             metadata={"authorization": "Bearer s3cret"}, timeout_ms=5000),
               payload=health_request),
        Golden("health_check_response.frame",
               "The server's response to call 1: SERVING.",
               response_frame(1, health_response),
               payload=health_response),
        Golden("status_ok.frame",
               "Call 1 ends with OK. The status has no field set (code OK is proto3's "
               "default), so it encodes as an empty message — which must still be sent, since "
               "the `status` body is what ends the call.",
               ok),
        Golden("status_not_found.frame",
               "Call 7 ends with NOT_FOUND; the message has a non-ASCII character (UTF-8) and "
               "the status has details.",
               frame_pb2.Frame(call_id=7, status=frame_pb2.CallStatus(
                   code=frame_pb2.NOT_FOUND, message='no instance with id "café-7"',
                   details={"field": "id"}))),
        Golden("count_request.frame",
               "A client opens call 3: the stream `fma.v1.Demo/Count` of 100 messages, 10 ms "
               "apart, with per-call flow control (initial credit 16), no metadata and no "
               "deadline.",
               request_frame(3, "fma.v1.Demo/Count", count_request, initial_credit=16),
               payload=count_request),
        Golden("credit.frame",
               "The client grants call 3 eight more messages.",
               frame_pb2.Frame(call_id=3, credit=frame_pb2.CallCredit(messages=8))),
        Golden("cancel.frame",
               "The client cancels call 3.",
               frame_pb2.Frame(call_id=3, cancel=frame_pb2.CallCancel(
                   reason="the client closed the stream"))),
        Golden("connection_error.frame",
               "A connection error: call id 0 (proto3's default, so the field is absent from "
               "the bytes) with RESOURCE_EXHAUSTED for an oversized frame.",
               frame_pb2.Frame(call_id=0, status=frame_pb2.CallStatus(
                   code=frame_pb2.RESOURCE_EXHAUSTED,
                   message="frame of 5000000 bytes exceeds the limit of 4194304 bytes"))),
        Golden("large_call_id.frame",
               "A response on call 2^40+3, a call id beyond 32 bits (a 6-byte varint); the "
               "payload's `data` has bytes that are not valid UTF-8.",
               response_frame(2**40 + 3, echo_response),
               payload=echo_response),
        Golden("unknown_field.frame",
               "A credit frame from a later protocol version, with a field this version does "
               "not know: field 99, a varint, after the known fields. Decoders must accept it "
               "and, when they re-encode the frame, write the unknown field back unchanged.",
               frame_pb2.Frame(call_id=5, credit=frame_pb2.CallCredit(messages=1)),
               unknown_varint=(99, 1234)),
    ]


def hex_lines(data: bytes) -> str:
    """``data`` as lines of 16 hex bytes."""
    return "\n".join(data[i:i + 16].hex(" ") for i in range(0, len(data), 16))


def textproto(message: Message) -> str:
    return text_format.MessageToString(message, as_utf8=True).rstrip("\n")


def readme(items: list[Golden]) -> str:
    lines = [
        "# Golden frames",
        "",
        "Complete frames of the fma wire protocol (`docs/wire-protocol.md`): each file holds",
        "exactly one frame — the 4-byte big-endian length, then that many bytes of one",
        "protobuf-encoded `fma.v1.Frame`. The Swift (`Tests/FMAWireTests`), C and Python",
        "(`Tests/python`) test suites decode every file and re-encode it, and must get the same",
        "bytes back.",
        "",
        "The encodings are canonical, so that every conforming implementation produces them:",
        "fields in field-number order, proto3 default values left out, maps with a single entry,",
        "unknown fields after the known ones.",
        "",
        "`scripts/make-golden.py` writes the files and this README (do not edit either by hand;",
        "`scripts/make-golden.py --check` verifies them). `Tests/python/test_golden.py` checks",
        "each section below against its file: the frame (in protobuf text format; `payload`",
        "fields appear as escaped bytes), the decoded payload when the frame carries one, any",
        "unknown field, and the bytes in hex.",
        "",
        "| file | bytes | content |",
        "| --- | ---: | --- |",
    ]
    for item in items:
        anchor = item.name.replace(".", "")  # GitHub's anchor for the section's heading
        lines.append(f"| [`{item.name}`](#{anchor}) | {len(item.encode())} "
                     f"| {first_sentence(item.summary)} |")
    for item in items:
        data = item.encode()
        lines += [
            "",
            f"## `{item.name}`",
            "",
            item.summary,
            "",
            "Frame:",
            "",
            "```textproto",
            textproto(item.frame),
            "```",
        ]
        if item.payload is not None:
            lines += [
                "",
                f"Payload, a `{item.payload.DESCRIPTOR.full_name}`:",
                "",
                "```textproto",
                textproto(item.payload),
                "```",
            ]
        if item.unknown_varint is not None:
            number, value = item.unknown_varint
            encoded = (varint(number << 3) + varint(value)).hex(" ")
            lines += [
                "",
                f"Unknown field, after the known ones: number {number}, wire type 0 (varint), "
                f"value {value} (bytes `{encoded}`).",
            ]
        lines += [
            "",
            f"Bytes ({len(data)}: the length prefix, then {len(data) - 4} bytes of `Frame`):",
            "",
            "```hex",
            hex_lines(data),
            "```",
        ]
    return "\n".join(lines) + "\n"


def first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[:end + 1]


def verify(items: list[Golden]) -> None:
    """Each frame decodes and re-encodes to the same bytes (so it is canonical for protobuf)."""
    for item in items:
        data = item.encode()
        (frame,) = decode_frames(data)
        if encode_frame(frame) != data:
            raise SystemExit(f"make-golden: {item.name} does not re-encode byte for byte")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"the folder to write (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the folder differs from what this makes")
    args = parser.parse_args()

    items = goldens()
    verify(items)
    wanted = {item.name: item.encode() for item in items}
    wanted["README.md"] = readme(items).encode("utf-8")

    if args.check:
        stale = [name for name, data in wanted.items()
                 if not (args.out / name).is_file() or (args.out / name).read_bytes() != data]
        extra = sorted(p.name for p in args.out.glob("*.frame") if p.name not in wanted)
        for name in stale:
            print(f"make-golden: {args.out / name} is missing or differs", file=sys.stderr)
        for name in extra:
            print(f"make-golden: {args.out / name} is not a golden frame", file=sys.stderr)
        if stale or extra:
            print("make-golden: run scripts/make-golden.py to rewrite them", file=sys.stderr)
            return 1
        print(f"make-golden: {args.out} is up to date")
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in wanted.items():
        (args.out / name).write_bytes(data)
    for path in args.out.glob("*.frame"):
        if path.name not in wanted:
            path.unlink()
    print(f"make-golden: wrote {len(items)} frames and README.md to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
