"""The frame helpers: encode_frame, decode_frames and FrameReader (docs/wire-protocol.md §2)."""

from __future__ import annotations

import struct

import pytest

from fma.client import (
    MAX_FRAME_BYTES,
    FrameError,
    FrameReader,
    FrameTooLargeError,
    TruncatedFrameError,
    decode_frames,
    encode_frame,
)
from fma.v1 import frame_pb2


def sample_frames() -> list[frame_pb2.Frame]:
    return [
        frame_pb2.Frame(call_id=1, request=frame_pb2.CallRequest(
            method="fma.v1.Health/Check", metadata={"authorization": "Bearer x"},
            timeout_ms=250, payload=b"\n\x0bfma.v1.Demo")),
        frame_pb2.Frame(call_id=1, response=frame_pb2.CallResponse(payload=b"\x08\x01")),
        frame_pb2.Frame(call_id=1, status=frame_pb2.CallStatus()),
        frame_pb2.Frame(call_id=2**64 - 1, credit=frame_pb2.CallCredit(messages=3)),
        frame_pb2.Frame(),  # an empty frame: zero bytes of protobuf
    ]


def test_encode_prefixes_the_big_endian_length() -> None:
    frame = frame_pb2.Frame(call_id=3, credit=frame_pb2.CallCredit(messages=8))
    assert encode_frame(frame) == bytes.fromhex("00000006 0803 3202 0808")
    assert encode_frame(frame_pb2.Frame()) == b"\0\0\0\0"


def test_encode_rejects_a_frame_over_the_limit() -> None:
    frame = frame_pb2.Frame(response=frame_pb2.CallResponse(payload=b"x" * 100))
    with pytest.raises(FrameTooLargeError) as caught:
        encode_frame(frame, max_frame_bytes=50)
    assert caught.value.length == len(frame.SerializeToString())
    assert caught.value.limit == 50
    assert len(encode_frame(frame, max_frame_bytes=None)) == 4 + caught.value.length


def test_round_trip_of_several_frames() -> None:
    frames = sample_frames()
    data = b"".join(encode_frame(frame) for frame in frames)
    assert decode_frames(data) == frames
    assert decode_frames(b"") == []


def test_byte_at_a_time_delivery() -> None:
    frames = sample_frames()
    encoded = [encode_frame(frame) for frame in frames]
    ends = set()
    offset = 0
    for chunk in encoded:
        offset += len(chunk)
        ends.add(offset)
    data = b"".join(encoded)

    reader = FrameReader()
    received = []
    for position in range(len(data)):
        reader.feed(data[position:position + 1])
        got = list(reader)
        # A frame comes out exactly when its last byte has arrived, not before.
        if position + 1 in ends:
            assert len(got) >= 1, f"no frame after byte {position + 1}"
        else:
            assert got == [], f"a frame came out early, after byte {position + 1}"
        received += got
    assert received == frames
    assert reader.pending_bytes == 0
    reader.finish()


def test_several_frames_in_one_chunk_and_a_split_one() -> None:
    frames = sample_frames()
    data = b"".join(encode_frame(frame) for frame in frames)
    cut = len(encode_frame(frames[0])) + len(encode_frame(frames[1])) + 3  # inside frame 3
    reader = FrameReader()
    reader.feed(data[:cut])
    assert list(reader) == frames[:2]
    assert reader.next_frame() is None
    assert reader.pending_bytes == 3
    reader.feed(data[cut:])
    assert list(reader) == frames[2:]
    reader.finish()


def test_oversized_length_is_rejected_from_the_prefix_alone() -> None:
    reader = FrameReader()
    # Only the length prefix: the body never arrives, yet the reader must reject it now.
    reader.feed(struct.pack(">I", MAX_FRAME_BYTES + 1))
    with pytest.raises(FrameTooLargeError) as caught:
        reader.next_frame()
    assert caught.value.length == MAX_FRAME_BYTES + 1
    assert caught.value.limit == MAX_FRAME_BYTES
    assert str(caught.value) == "frame of 4194305 bytes exceeds the limit of 4194304 bytes"
    # The stream cannot be trusted past that point: the reader keeps failing.
    reader.feed(encode_frame(frame_pb2.Frame(call_id=1)))
    with pytest.raises(FrameTooLargeError):
        reader.next_frame()
    with pytest.raises(FrameTooLargeError):
        reader.finish()


def test_oversized_length_is_rejected_after_earlier_good_frames() -> None:
    good = encode_frame(frame_pb2.Frame(call_id=9))
    reader = FrameReader(max_frame_bytes=16)
    reader.feed(good + struct.pack(">I", 17))
    assert reader.next_frame() == frame_pb2.Frame(call_id=9)
    with pytest.raises(FrameTooLargeError):
        reader.next_frame()


def test_a_frame_of_exactly_the_limit_is_accepted() -> None:
    frame = frame_pb2.Frame(response=frame_pb2.CallResponse(payload=b"p" * 1000))
    size = len(frame.SerializeToString())
    assert decode_frames(encode_frame(frame), max_frame_bytes=size) == [frame]
    with pytest.raises(FrameTooLargeError):
        decode_frames(encode_frame(frame), max_frame_bytes=size - 1)


def test_the_default_limit_is_4_mib() -> None:
    assert MAX_FRAME_BYTES == 4 * 1024 * 1024
    big = frame_pb2.Frame(response=frame_pb2.CallResponse(payload=b"\0" * (4 * 1024 * 1024)))
    with pytest.raises(FrameTooLargeError):
        encode_frame(big)


@pytest.mark.parametrize("cut", [1, 3, 4, 5, 10])
def test_truncated_input(cut: int) -> None:
    data = encode_frame(frame_pb2.Frame(call_id=1, cancel=frame_pb2.CallCancel(reason="bye")))
    assert cut < len(data)
    with pytest.raises(TruncatedFrameError):
        decode_frames(data[:cut])
    reader = FrameReader()
    reader.feed(data[:cut])
    assert reader.next_frame() is None
    with pytest.raises(TruncatedFrameError):
        reader.finish()


def test_bytes_that_are_not_a_frame() -> None:
    body = b"\x08"  # a varint tag with no value
    with pytest.raises(FrameError, match="malformed frame"):
        decode_frames(struct.pack(">I", len(body)) + body)
    body = b"\x12\x05ab"  # a length-delimited field longer than the frame
    with pytest.raises(FrameError, match="malformed frame"):
        decode_frames(struct.pack(">I", len(body)) + body)


def test_frame_errors_are_value_errors() -> None:
    assert issubclass(FrameError, ValueError)
    assert issubclass(FrameTooLargeError, FrameError)
    assert issubclass(TruncatedFrameError, FrameError)
