"""Length-prefixed frames: the only way data crosses the sandbox boundary.

A frame is a 4-byte big-endian length followed by that many bytes. The reader checks the
length against a limit before reading the body, so a hostile writer cannot make the reader
allocate more than the limit.
"""
from __future__ import annotations

import os
import struct

HEADER = struct.Struct(">I")


class FrameError(Exception):
    """The byte stream is not a well-formed sequence of frames within limits."""


def pack_frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length."""
    return HEADER.pack(len(payload)) + payload


def write_frame(fd: int, payload: bytes) -> None:
    """Write one whole frame to a file descriptor (retrying short writes)."""
    data = memoryview(pack_frame(payload))
    while data:
        written = os.write(fd, data)
        data = data[written:]


class FrameReader:
    """Incremental decoder: feed it bytes as they arrive, take whole frames out."""

    def __init__(self, max_frame_bytes: int):
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return the frames completed by it. Raises FrameError on an oversized frame."""
        self._buffer += data
        frames = []
        while len(self._buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer)
            if length > self.max_frame_bytes:
                raise FrameError(f"frame of {length} bytes exceeds the limit of {self.max_frame_bytes}")
            if len(self._buffer) < HEADER.size + length:
                break
            frames.append(bytes(self._buffer[HEADER.size:HEADER.size + length]))
            del self._buffer[:HEADER.size + length]
        return frames


def read_frame_fd(fd: int, max_frame_bytes: int) -> bytes | None:
    """Read one frame from a raw fd with exact, unbuffered reads (None at end of stream).

    Unbuffered on purpose: the warm worker reads a request and must leave the payload that
    follows in the pipe, for the child it forks to read.
    """
    header = _read_exact(fd, HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise FrameError("stream ended inside a frame header")
    (length,) = HEADER.unpack(header)
    if length > max_frame_bytes:
        raise FrameError(f"frame of {length} bytes exceeds the limit of {max_frame_bytes}")
    body = _read_exact(fd, length)
    if len(body) < length:
        raise FrameError("stream ended inside a frame")
    return body


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)
