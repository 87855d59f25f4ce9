"""The trusted side decodes what crosses the boundary without pickle, within limits, or refuses."""
import json
import struct

import pytest
import torch

from autograder.wire.codec import CodecError, Unsupported, decode, encode
from autograder.wire.frames import FrameError, FrameReader, pack_frame


class Sneaky(torch.Tensor):
    def __eq__(self, other):
        return True


def test_round_trip_keeps_values_types_and_nesting():
    message = {"t": torch.arange(6.0, dtype=torch.float64).reshape(2, 3).T, "n": [1, 2.5, True, None, "s"],
               "nan": float("nan"), "d": {"k": torch.tensor(3)}}
    decoded = decode(encode(message))
    assert torch.equal(decoded["t"], message["t"]) and decoded["t"].dtype == torch.float64
    assert decoded["n"] == [1, 2.5, True, None, "s"] and decoded["d"]["k"].item() == 3
    assert decoded["nan"] != decoded["nan"]


def test_subclasses_arrive_as_plain_tensors_and_objects_as_unsupported():
    decoded = decode(encode({"s": torch.zeros(2).as_subclass(Sneaky), "o": object()}))
    assert type(decoded["s"]) is torch.Tensor
    assert isinstance(decoded["o"], Unsupported) and decoded["o"].what == "builtins.object"


def test_a_user_dict_cannot_pose_as_a_tensor_reference():
    assert decode(encode({"x": {"__tensor__": "0"}}))["x"] == {"__tensor__": "0"}


def test_huge_lazy_tensor_is_refused_before_it_is_materialised():
    huge = torch.zeros(1).expand(10**10)
    assert isinstance(decode(encode({"x": huge}))["x"], Unsupported)


@pytest.mark.parametrize("raw", [
    b"\x00",                                               # shorter than its header
    struct.pack(">I", 100) + b"{}",                        # header length beyond the message
    struct.pack(">I", 2) + b"{x",                          # not JSON
    struct.pack(">I", 18) + b'{"__tensor__": "9"}'[:18],   # JSON cut
    struct.pack(">I", 19) + b'{"__tensor__": "9"}',        # a tensor that is not there
    struct.pack(">I", 2) + b"{}" + b"\xff" * 16,           # a tensor block that is garbage
    struct.pack(">I", 18) + b'{"__pickle__": "x"}'[:18],
])
def test_malformed_messages_raise_codec_error(raw):
    with pytest.raises(CodecError):
        decode(raw)


def test_safetensors_header_lying_about_sizes_is_refused():
    body = encode({"x": torch.zeros(4)})
    (json_len,) = struct.unpack_from(">I", body)
    blob = bytearray(body[4 + json_len:])
    (header_len,) = struct.unpack_from("<Q", blob)
    header = json.loads(blob[8:8 + header_len])
    header["0"]["shape"] = [10**9]
    new_header = json.dumps(header).encode()
    forged = body[:4 + json_len] + struct.pack("<Q", len(new_header)) + new_header + bytes(blob[8 + header_len:])
    with pytest.raises(CodecError):
        decode(forged)


def test_frames_are_reassembled_across_reads_and_oversized_ones_refused():
    reader = FrameReader(max_frame_bytes=10)
    data = pack_frame(b"hello") + pack_frame(b"world!")
    assert reader.feed(data[:3]) == [] and reader.feed(data[3:]) == [b"hello", b"world!"]
    with pytest.raises(FrameError):
        FrameReader(max_frame_bytes=4).feed(pack_frame(b"hello"))
