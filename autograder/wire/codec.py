"""Messages made of JSON plus tensors, encoded without pickle.

A message is ``[u32 json length][JSON][safetensors bytes]``. Inside the JSON a tensor is
``{"__tensor__": key}`` pointing into the safetensors blob, a dict is ``{"__dict__": {...}}``
(so a user dict can never pose as a tensor), and a value that cannot cross is
``{"__unsupported__": type name}``. Decoding uses ``json`` and ``safetensors`` only, so a
hostile message can fail to decode but can never run code; every tensor decodes to a plain
``torch.Tensor``.
"""
from __future__ import annotations

import json
import math
import struct

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

_LEN = struct.Struct(">I")
MAX_DEPTH = 32


class CodecError(Exception):
    """A message could not be decoded, or exceeds a limit."""


def encode(message: dict, max_tensor_elements: int = 50_000_000) -> bytes:
    """Encode a JSON-able message whose leaves may be tensors (sandbox side)."""
    tensors: dict[str, torch.Tensor] = {}

    def walk(value, depth):
        if depth > MAX_DEPTH:
            return {"__unsupported__": "nesting too deep"}
        if isinstance(value, torch.Tensor):
            if value.numel() > max_tensor_elements:
                return {"__unsupported__": f"tensor of {value.numel()} elements (too large)"}
            if value.is_complex() or value.layout != torch.strided:
                return {"__unsupported__": f"tensor of dtype {value.dtype} / layout {value.layout}"}
            key = str(len(tensors))
            # A plain, contiguous, owned copy: subclasses, views and expanded strides do not cross.
            tensors[key] = torch.Tensor._make_subclass(torch.Tensor, value.detach()).contiguous().clone()
            return {"__tensor__": key}
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, (list, tuple)):
            return [walk(item, depth + 1) for item in value]
        if isinstance(value, dict):
            return {"__dict__": {str(k): walk(v, depth + 1) for k, v in value.items()}}
        return {"__unsupported__": type(value).__module__ + "." + type(value).__qualname__}

    header = json.dumps(walk(message, 0)).encode()
    blob = save_tensors(tensors) if tensors else b""
    return _LEN.pack(len(header)) + header + blob


def decode(data: bytes) -> dict:
    """Decode a message (trusted side). Raises CodecError on anything malformed."""
    if len(data) < _LEN.size:
        raise CodecError("message too short")
    (header_len,) = _LEN.unpack_from(data)
    if _LEN.size + header_len > len(data):
        raise CodecError("message header length out of range")
    try:
        tree = json.loads(data[_LEN.size:_LEN.size + header_len])
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"bad JSON header: {exc}") from None
    blob = data[_LEN.size + header_len:]
    try:
        # safetensors checks every tensor's offsets against the blob: nothing exceeds its size.
        tensors = load_tensors(blob) if blob else {}
    except Exception as exc:  # safetensors raises its own error types
        raise CodecError(f"bad tensor block: {exc}") from None
    return _restore(tree, tensors, 0)


class Unsupported:
    """A value the sandbox could not encode (its type name is kept for feedback)."""

    def __init__(self, what: str):
        self.what = what

    def __repr__(self):
        return f"Unsupported({self.what!r})"


def _restore(value, tensors, depth):
    if depth > MAX_DEPTH + 1:
        raise CodecError("nesting too deep")
    if isinstance(value, list):
        return [_restore(item, tensors, depth + 1) for item in value]
    if isinstance(value, dict):
        if set(value) == {"__tensor__"}:
            try:
                return tensors[value["__tensor__"]]
            except (KeyError, TypeError):
                raise CodecError("reference to a missing tensor") from None
        if set(value) == {"__dict__"} and isinstance(value["__dict__"], dict):
            return {k: _restore(v, tensors, depth + 1) for k, v in value["__dict__"].items()}
        if set(value) == {"__float__"} and value["__float__"] in ("nan", "inf", "-inf"):
            return float(value["__float__"])
        if set(value) == {"__unsupported__"}:
            return Unsupported(str(value["__unsupported__"])[:200])
        raise CodecError("unknown object in message")
    return value
