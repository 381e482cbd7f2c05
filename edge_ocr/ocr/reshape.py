"""Run a static-shape, fully convolutional TFLite model at a smaller input: its activations (most of a
detector's memory) shrink with the input's area, with the shipped file and its hash unchanged.

The converted detectors hold their sizes as constants (the resize ops' target sizes, the transposed
convolutions' output shapes, every tensor's recorded shape), so `resize_tensor_input` fails. These are
rewritten in a copy of the file's bytes, in place (no value changes length), by a minimal reader of the
TFLite flatbuffer: neither the `flatbuffers` package nor a schema module is needed (tflite-runtime has none).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from edge_ocr.errors import ModelError

# tflite schema: BuiltinOperator codes whose constant operand holds a spatial size
RESIZE_BILINEAR, TRANSPOSE_CONV, RESIZE_NEAREST_NEIGHBOR = 23, 67, 97
INT32 = 2  # TensorType


class _Flat:
    """Read-only navigation of a flatbuffer's tables and vectors; positions are byte offsets."""

    def __init__(self, data: bytearray) -> None:
        self.data = data

    def u32(self, pos: int) -> int:
        return struct.unpack_from("<I", self.data, pos)[0]

    def field(self, table: int, index: int) -> int:
        """Position of a table's field, 0 when absent."""
        vtable = table - struct.unpack_from("<i", self.data, table)[0]
        size = struct.unpack_from("<H", self.data, vtable)[0]
        slot = 4 + 2 * index
        if slot >= size:
            return 0
        off = struct.unpack_from("<H", self.data, vtable + slot)[0]
        return table + off if off else 0

    def scalar(self, table: int, index: int, fmt: str, default: int = 0) -> int:
        pos = self.field(table, index)
        return struct.unpack_from("<" + fmt, self.data, pos)[0] if pos else default

    def vector(self, table: int, index: int) -> tuple[int, int]:
        """(position of the first element, length) of a vector field; (0, 0) when absent."""
        pos = self.field(table, index)
        if not pos:
            return 0, 0
        start = pos + self.u32(pos)
        return start + 4, self.u32(start)

    def tables(self, table: int, index: int) -> list[int]:
        start, n = self.vector(table, index)
        return [start + 4 * i + self.u32(start + 4 * i) for i in range(n)]

    def ints(self, table: int, index: int) -> list[int]:
        start, n = self.vector(table, index)
        return list(struct.unpack_from(f"<{n}i", self.data, start)) if n else []


class _Model:
    """The parts of subgraph 0 that carry spatial sizes."""

    def __init__(self, data: bytearray) -> None:
        self.fb = fb = _Flat(data)
        root = fb.u32(0)
        self.codes = [
            max(fb.scalar(c, 0, "b"), fb.scalar(c, 3, "i")) for c in fb.tables(root, 1)
        ]  # deprecated_builtin_code, builtin_code
        self.buffers = fb.tables(root, 4)
        graph = fb.tables(root, 2)[0]
        self.tensors = fb.tables(graph, 0)
        self.inputs = fb.ints(graph, 1)
        self.operators = fb.tables(graph, 3)

    def shape(self, tensor: int) -> tuple[int, int]:
        """(position, rank) of a tensor's shape vector."""
        return self.fb.vector(self.tensors[tensor], 0)

    def set_shape(self, tensor: int, dims: list[int]) -> None:
        pos, rank = self.shape(tensor)
        if rank != len(dims):
            raise ModelError(f"tensor {tensor}: rank {rank}, new shape {dims}")
        struct.pack_into(f"<{rank}i", self.fb.data, pos, *dims)

    def constant(self, tensor: int) -> tuple[int, int]:
        """(position, count) of an int32 constant tensor's values; (0, 0) if it is not one."""
        fb = self.fb
        t = self.tensors[tensor]
        if fb.scalar(t, 1, "b") != INT32:
            return 0, 0
        pos, n = fb.vector(self.buffers[fb.scalar(t, 2, "I")], 0)
        return pos, n // 4

    def size_constants(self) -> list[tuple[int, int]]:
        """(position, number of values) of each spatial size held as a constant, once per buffer."""
        found: dict[int, tuple[int, int]] = {}
        for op in self.operators:
            code = self.codes[self.fb.scalar(op, 0, "I")]
            inputs = self.fb.ints(op, 1)
            if code in (RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR):
                pos, n = self.constant(inputs[1])  # size: [h, w]
                at = pos
            elif code == TRANSPOSE_CONV:
                pos, n = self.constant(inputs[0])  # output_shape: [1, h, w, c]
                at = pos + 4
            else:
                continue
            if not pos or n < 2:
                raise ModelError("a resize or transposed convolution takes its size from a computed tensor")
            found[at] = (at, 2)
        return list(found.values())


def reshaped_model(
    path: Path, height: int, width: int, measure: Callable[[bytes], dict[int, list[int]]]
) -> bytes:
    """The model's bytes with a height x width input; `measure` returns every tensor's shape as the
    runtime's own kernels compute them for such bytes (so the delegate plans at the new size)."""
    data = bytearray(path.read_bytes())
    model = _Model(data)
    if len(model.inputs) != 1:
        raise ModelError(f"{path.name}: only a single-input model can be reshaped")
    pos, rank = model.shape(model.inputs[0])
    n, h0, w0, c = struct.unpack_from("<4i", data, pos) if rank == 4 else (0, 0, 0, 0)
    if rank != 4 or height > h0 or width > w0 or h0 % height or w0 % width:
        raise ModelError(f"{path.name}: input {h0}x{w0} cannot become {height}x{width}")
    for at, _ in model.size_constants():
        h, w = struct.unpack_from("<2i", data, at)
        struct.pack_into("<2i", data, at, h * height // h0, w * width // w0)
    model.set_shape(model.inputs[0], [n, height, width, c])
    for tensor, dims in measure(bytes(data)).items():  # a runtime may add tensors of its own: skipped
        if tensor < len(model.tensors) and dims and len(dims) == model.shape(tensor)[1]:
            model.set_shape(tensor, dims)
    return bytes(data)
