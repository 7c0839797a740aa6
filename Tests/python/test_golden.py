"""The golden frames, Tests/Golden/*.frame: each decodes, re-encodes byte for byte, and holds what
Tests/Golden/README.md says it holds (the README's sections are parsed and checked here)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import text_format

from fma.client import decode_frames, encode_frame
from fma.v1 import demo_pb2, frame_pb2, health_pb2

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "Tests" / "Golden"

#: The message classes a README section may name as a payload's type.
PAYLOAD_TYPES = {
    cls.DESCRIPTOR.full_name: cls
    for module in (demo_pb2, health_pb2)
    for cls in vars(module).values()
    if isinstance(cls, type) and hasattr(cls, "DESCRIPTOR") and hasattr(cls, "FromString")
}


@dataclasses.dataclass
class Section:
    """What README.md says about one golden file."""

    name: str
    frame_text: str
    payload_type: str | None
    payload_text: str | None
    unknown: tuple[int, int] | None  # (field number, varint value)
    hex_bytes: bytes


def readme_sections() -> dict[str, Section]:
    text = (GOLDEN / "README.md").read_text(encoding="utf-8")
    parts = re.split(r"^## `([^`]+)`$", text, flags=re.MULTILINE)
    sections = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        frame = re.search(r"^Frame:\n\n```textproto\n(.*?)```$", body, re.MULTILINE | re.DOTALL)
        payload = re.search(r"^Payload, a `([\w.]+)`:\n\n```textproto\n(.*?)```$", body,
                            re.MULTILINE | re.DOTALL)
        unknown = re.search(r"^Unknown field, after the known ones: number (\d+), "
                            r"wire type 0 \(varint\), value (\d+)", body, re.MULTILINE)
        hex_block = re.search(r"^```hex\n(.*?)```$", body, re.MULTILINE | re.DOTALL)
        assert frame and hex_block, f"README section {name} lacks its Frame or its bytes"
        sections[name] = Section(
            name=name,
            frame_text=frame.group(1),
            payload_type=payload.group(1) if payload else None,
            payload_text=payload.group(2) if payload else None,
            unknown=(int(unknown.group(1)), int(unknown.group(2))) if unknown else None,
            hex_bytes=bytes.fromhex(hex_block.group(1)),
        )
    return sections


SECTIONS = readme_sections()
FILES = sorted(path.name for path in GOLDEN.glob("*.frame"))


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def test_readme_lists_exactly_the_golden_files() -> None:
    assert len(FILES) >= 8
    assert sorted(SECTIONS) == FILES


@pytest.mark.parametrize("name", FILES)
def test_decodes_and_reencodes_byte_for_byte(name: str) -> None:
    data = (GOLDEN / name).read_bytes()
    assert int.from_bytes(data[:4], "big") == len(data) - 4, "the length prefix is wrong"
    (frame,) = decode_frames(data)
    assert encode_frame(frame) == data
    # Through a second decode as well: nothing is lost or reordered by a round trip.
    (again,) = decode_frames(encode_frame(frame))
    assert encode_frame(again) == data


@pytest.mark.parametrize("name", FILES)
def test_contents_match_the_readme(name: str) -> None:
    section = SECTIONS[name]
    data = (GOLDEN / name).read_bytes()
    assert data == section.hex_bytes, "the README's hex differs from the file"

    (frame,) = decode_frames(data)
    expected = text_format.Parse(section.frame_text, frame_pb2.Frame())
    known_only = frame_pb2.Frame()
    known_only.CopyFrom(frame)
    known_only.DiscardUnknownFields()
    assert known_only == expected

    if section.payload_type is not None:
        body = frame.WhichOneof("body")
        assert body in ("request", "response")
        payload_bytes = getattr(frame, body).payload
        payload_type = PAYLOAD_TYPES[section.payload_type]
        payload = payload_type.FromString(payload_bytes)
        assert payload == text_format.Parse(section.payload_text, payload_type())
        assert payload.SerializeToString(deterministic=True) == payload_bytes

    known_bytes = expected.SerializeToString(deterministic=True)
    if section.unknown is None:
        assert data[4:] == known_bytes, "the frame has fields the README does not show"
    else:
        number, value = section.unknown
        assert data[4:] == known_bytes + varint(number << 3) + varint(value)


def test_unknown_field_is_preserved_on_reencode() -> None:
    data = (GOLDEN / "unknown_field.frame").read_bytes()
    (frame,) = decode_frames(data)
    assert frame.call_id == 5 and frame.credit.messages == 1
    unknown = bytes.fromhex("98 06 d2 09")  # field 99, varint 1234
    assert encode_frame(frame).endswith(unknown)
    # The field really is unknown to this version: dropping unknown fields removes it.
    frame.DiscardUnknownFields()
    assert encode_frame(frame) == len(data[4:-4]).to_bytes(4, "big") + data[4:-4]


def test_specific_contents() -> None:
    def load(name: str) -> frame_pb2.Frame:
        (frame,) = decode_frames((GOLDEN / name).read_bytes())
        return frame

    request = load("health_check_request.frame")
    assert request.call_id == 1
    assert request.request.method == "fma.v1.Health/Check"
    assert dict(request.request.metadata) == {"authorization": "Bearer s3cret"}
    assert request.request.timeout_ms == 5000
    assert health_pb2.HealthCheckRequest.FromString(request.request.payload).service == \
        "fma.v1.Demo"

    response = health_pb2.HealthCheckResponse.FromString(
        load("health_check_response.frame").response.payload)
    assert response.status == health_pb2.HealthCheckResponse.SERVING
    assert (response.component, response.version, response.uptime_ms) == \
        ("fma-demo", "0.1.0", 1234)
    assert list(response.services) == ["fma.v1.Demo", "fma.v1.Health"]

    ok = load("status_ok.frame")
    assert ok.WhichOneof("body") == "status" and ok.status.code == frame_pb2.OK

    not_found = load("status_not_found.frame")
    assert not_found.call_id == 7 and not_found.status.code == frame_pb2.NOT_FOUND
    assert any(ord(char) > 127 for char in not_found.status.message)
    assert dict(not_found.status.details) == {"field": "id"}

    count = load("count_request.frame")
    assert count.request.method == "fma.v1.Demo/Count"
    assert count.request.initial_credit == 16

    assert load("credit.frame").WhichOneof("body") == "credit"
    assert load("cancel.frame").WhichOneof("body") == "cancel"

    error = load("connection_error.frame")
    assert error.call_id == 0 and error.status.code == frame_pb2.RESOURCE_EXHAUSTED

    assert load("large_call_id.frame").call_id == 2**40 + 3


def test_generator_agrees_with_the_committed_files() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make-golden.py"), "--check"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
