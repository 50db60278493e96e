#!/usr/bin/env python3
"""Writes the .npy and .safetensors fixtures of TensorTests (numpy only).

    python3 Tests/TensorTests/Fixtures/make_fixtures.py
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


values = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.5 - 3
for dtype in ("<f4", "<f8", "<i4", "<i8"):
    np.save(path(f"arange_{dtype[1:]}.npy"), values.astype(dtype) if dtype[1] == "f" else np.arange(24).reshape(2, 3, 4).astype(dtype))
for version in ((1, 0), (2, 0), (3, 0)):
    with open(path(f"version{version[0]}.npy"), "wb") as f:
        np.lib.format.write_array(f, np.array([1.5, -2.0, 3.25], dtype="<f4"), version=version)
np.save(path("scalar.npy"), np.array(7.0, dtype="<f4"))
np.save(path("empty.npy"), np.zeros((0, 3), dtype="<f4"))
np.save(path("fortran.npy"), np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
np.save(path("big_endian.npy"), np.array([1.0, 2.0], dtype=">f4"))
# What tx's encoder must write byte for byte.
np.save(path("exact_2x3.npy"), np.arange(6, dtype="<f4").reshape(2, 3))


def safetensors(name, tensors):
    header, data = {}, b""
    for key, array in tensors.items():
        raw = array.tobytes()
        dtype = {"float32": "F32", "float64": "F64", "int64": "I64", "int32": "I32", "float16": "F16"}[str(array.dtype)]
        header[key] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": "np"}
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path(name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


safetensors("model.safetensors", {
    "layers.0.attn.Wq": np.eye(2, dtype=np.float32),
    "layers.1.attn.Wq": np.full((2, 2), 2.0, dtype=np.float32),
    "norm.gamma": np.array([1.0, 2.0, 3.0], dtype=np.float64),
    "steps": np.array([10, 20], dtype=np.int64),
    "half": np.array([0.5, -1.0], dtype=np.float16),
})
