"""An independent numpy evaluator of the classifiers' ONNX graph: the exact reference.

onnxruntime runs the int8 matrix products (``MatMulInteger``) of
``minilm-l6-v2-first3-int8.onnx`` with CPU-specific kernels: with AVX-512 VNNI
(``vpdpbusd``) the int32 sums are exact; with plain AVX2 (``vpmaddubsw``) each pair of
u8 x s8 products is first added in int16 with saturation. This module evaluates the same
graph in numpy with every integer product computed exactly (float64 sums of integers),
so its output is what every CPU should compute. ``saturate=True`` emulates the AVX2
kernel instead (pairs of adjacent products clipped to int16, on the raw u8 activations,
before the zero-point correction), which shows what a CPU without VNNI computes.

The ONNX file is read with a minimal protobuf wire-format reader (the ``onnx`` package
is not a dependency), and only the operators this graph uses are implemented.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Graph", "Node", "erf_is_accurate", "load_graph", "matmul_integer", "run_graph"]

_DTYPES: dict[int, Any] = {
    1: np.float32,
    2: np.uint8,
    3: np.int8,
    5: np.int16,
    6: np.int32,
    7: np.int64,
    9: np.bool_,
    10: np.float16,
    11: np.float64,
}


# ---------------------------------------------------------------- protobuf wire format


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


def _fields(buf: memoryview) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(field number, wire type, value)`` of one message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i : i + size], i + size
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _packed_ints(wire: int, value: Any) -> list[int]:
    if wire == 0:
        return [_signed(value)]
    out, i = [], 0
    while i < len(value):
        item, i = _varint(value, i)
        out.append(_signed(item))
    return out


def _tensor(buf: memoryview) -> tuple[str, NDArray[Any]]:
    """Decode a TensorProto into ``(name, array)``."""
    dims: list[int] = []
    dtype, name, raw = 1, "", None
    floats: list[float] = []
    ints: list[int] = []
    for number, wire, value in _fields(buf):
        if number == 1:
            dims += _packed_ints(wire, value)
        elif number == 2:
            dtype = value
        elif number == 4:
            floats += list(np.frombuffer(value, dtype="<f4")) if wire == 2 else []
            if wire == 5:
                floats.append(float(np.frombuffer(value, dtype="<f4")[0]))
        elif number in (5, 7):
            ints += _packed_ints(wire, value)
        elif number == 8:
            name = bytes(value).decode()
        elif number == 9:
            raw = value
    np_type = _DTYPES[dtype]
    if raw is not None:
        array = np.frombuffer(raw, dtype=np.dtype(np_type).newbyteorder("<")).astype(np_type)
    elif floats:
        array = np.array(floats, dtype=np_type)
    else:
        array = np.array(ints).astype(np_type)
    return name, array.reshape(dims)


@dataclass
class Node:
    """One operator of the graph."""

    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    """The nodes (in file order, which ONNX requires to be topological) and constants."""

    nodes: list[Node]
    initializers: dict[str, NDArray[Any]]
    outputs: list[str]


def _attribute(buf: memoryview) -> tuple[str, Any]:
    name, value = "", None
    ints: list[int] = []
    for number, wire, item in _fields(buf):
        if number == 1:
            name = bytes(item).decode()
        elif number == 2:
            value = float(np.frombuffer(item, dtype="<f4")[0])
        elif number == 3:
            value = _signed(item)
        elif number == 4:
            value = bytes(item)
        elif number == 5:
            value = _tensor(item)[1]
        elif number == 8:
            ints += _packed_ints(wire, item)
    return name, ints if value is None else value


def load_graph(path: Path) -> Graph:
    """Read an ONNX model's main graph."""
    data = memoryview(path.read_bytes())
    graph = next(value for number, _, value in _fields(data) if number == 7)
    nodes: list[Node] = []
    initializers: dict[str, NDArray[Any]] = {}
    outputs: list[str] = []
    for number, _, value in _fields(graph):
        if number == 1:
            node = Node("", [], [])
            for n, _, item in _fields(value):
                if n == 1:
                    node.inputs.append(bytes(item).decode())
                elif n == 2:
                    node.outputs.append(bytes(item).decode())
                elif n == 4:
                    node.op = bytes(item).decode()
                elif n == 5:
                    key, attr = _attribute(item)
                    node.attrs[key] = attr
            nodes.append(node)
        elif number == 5:
            name, array = _tensor(value)
            initializers[name] = array
        elif number == 12:
            outputs.append(next(bytes(v).decode() for n, _, v in _fields(value) if n == 1))
    return Graph(nodes, initializers, outputs)


# ---------------------------------------------------------------- operators


def _erf(x: NDArray[np.float32]) -> NDArray[np.float32]:
    # Abramowitz & Stegun 7.1.26 in float64: absolute error below 1.5e-7.
    z = np.abs(x.astype(np.float64))
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return (np.sign(x) * (1.0 - poly * np.exp(-z * z))).astype(np.float32)


def _round_half_even(x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
    return np.rint(x)  # numpy rounds halves to even, as ONNX requires


def _dynamic_quantize(x: NDArray[np.float32]) -> list[NDArray[Any]]:
    low = np.float32(min(0.0, float(x.min())))
    high = np.float32(max(0.0, float(x.max())))
    scale = np.float32((high - low) / np.float32(255.0))
    if scale == 0:
        scale = np.float32(1.0)
    zero = np.uint8(np.clip(_round_half_even(np.float32(0.0) - low / scale), 0, 255))
    q = np.clip(_round_half_even(x / scale) + np.float32(zero), 0, 255).astype(np.uint8)
    return [q, np.array(scale, dtype=np.float32), np.array(zero, dtype=np.uint8)]


def matmul_integer(
    a: NDArray[np.uint8],
    b: NDArray[np.int8],
    a_zero: NDArray[np.uint8],
    b_zero: NDArray[np.int8],
    saturate: bool,
) -> NDArray[np.int32]:
    """``(a - a_zero) @ (b - b_zero)`` exactly, or as the AVX2 u8 x s8 kernel computes it."""
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    exact = (a64 - a_zero.astype(np.float64)) @ (b64 - b_zero.astype(np.float64))
    if saturate:
        exact = exact + _saturation_error(a.astype(np.int64), b.astype(np.int64))
    return exact.astype(np.int32)


def _saturation_error(a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.float64]:
    """What the int16 saturation of ``a[2j] b[2j] + a[2j+1] b[2j+1]`` takes from ``a @ b``.

    The AVX2 kernel (``vpmaddubsw``) multiplies the raw u8 activations by the s8 weights
    and adds adjacent pairs along the inner dimension into int16, clipping to
    [-32768, 32767]; the zero-point correction comes after, exactly. Only a pair whose
    weights sum to more than 128 in absolute value can leave the int16 range.
    """
    rows = a.reshape(-1, a.shape[-1])
    k = rows.shape[1]
    if k % 2:
        rows = np.pad(rows, ((0, 0), (0, 1)))
        b = np.pad(b, ((0, 1), (0, 0)))
    even, odd = b[0::2], b[1::2]
    pair, column = np.nonzero(np.abs(even) + np.abs(odd) > 128)
    error = np.zeros((rows.shape[0], b.shape[1]), dtype=np.float64)
    if len(pair):
        sums = rows[:, 2 * pair] * even[pair, column] + rows[:, 2 * pair + 1] * odd[pair, column]
        lost = (np.clip(sums, -32768, 32767) - sums).astype(np.float64)
        for r in range(rows.shape[0]):
            error[r] = np.bincount(column, weights=lost[r], minlength=b.shape[1])
    return error.reshape(*a.shape[:-1], b.shape[1])


def _slice(data: NDArray[Any], *args: NDArray[np.int64]) -> NDArray[Any]:
    starts, ends = args[0], args[1]
    axes = args[2] if len(args) > 2 and args[2] is not None else np.arange(len(starts))
    steps = args[3] if len(args) > 3 and args[3] is not None else np.ones(len(starts), np.int64)
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        size = data.shape[axis]
        end = max(min(int(end), size), -size - 1)
        index[int(axis)] = slice(int(start), end, int(step))
    return data[tuple(index)]


def _reshape(data: NDArray[Any], shape: NDArray[np.int64], allowzero: int) -> NDArray[Any]:
    target = [data.shape[i] if (s == 0 and not allowzero) else int(s) for i, s in enumerate(shape)]
    return data.reshape(target)


def _layer_norm(
    x: NDArray[np.float32],
    scale: NDArray[np.float32],
    bias: NDArray[np.float32],
    attrs: dict[str, Any],
) -> NDArray[np.float32]:
    axis = attrs.get("axis", -1)
    mean = x.mean(axis=axis, keepdims=True, dtype=np.float32)
    var = ((x - mean) ** 2).mean(axis=axis, keepdims=True, dtype=np.float32)
    eps = np.float32(attrs.get("epsilon", 1e-5))
    return ((x - mean) / np.sqrt(var + eps) * scale + bias).astype(np.float32)


def _softmax(x: NDArray[np.float32], axis: int) -> NDArray[np.float32]:
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return (shifted / shifted.sum(axis=axis, keepdims=True)).astype(np.float32)


def _dequantize(
    x: NDArray[Any], scale: NDArray[np.float32], zero: NDArray[Any], axis: int
) -> NDArray[np.float32]:
    if scale.ndim == 1 and scale.size > 1:
        shape = [1] * x.ndim
        shape[axis] = scale.size
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return ((x.astype(np.float32) - zero.astype(np.float32)) * scale).astype(np.float32)


def _gather_nd(data: NDArray[Any], indices: NDArray[np.int64]) -> NDArray[Any]:
    depth = indices.shape[-1]
    flat = indices.reshape(-1, depth)
    picked = np.stack([data[tuple(i)] for i in flat])
    return picked.reshape(*indices.shape[:-1], *data.shape[depth:])


def _shape(x: NDArray[Any], attrs: dict[str, Any]) -> NDArray[np.int64]:
    dims = np.array(x.shape, dtype=np.int64)
    return dims[attrs.get("start", 0) : attrs.get("end", len(dims))]


_Op = Callable[[list[Any], dict[str, Any], bool], list[Any]]

_OPS: dict[str, _Op] = {
    "Add": lambda v, a, s: [v[0] + v[1]],
    "Sub": lambda v, a, s: [v[0] - v[1]],
    "Mul": lambda v, a, s: [v[0] * v[1]],
    "Div": lambda v, a, s: [v[0] / v[1] if v[0].dtype.kind == "f" else v[0] // v[1]],
    "Max": lambda v, a, s: [np.maximum(v[0], v[1])],
    "And": lambda v, a, s: [np.logical_and(v[0], v[1])],
    "GreaterOrEqual": lambda v, a, s: [v[0] >= v[1]],
    "IsNaN": lambda v, a, s: [np.isnan(v[0])],
    "Where": lambda v, a, s: [np.where(v[0], v[1], v[2])],
    "Erf": lambda v, a, s: [_erf(v[0])],
    "Cast": lambda v, a, s: [v[0].astype(_DTYPES[a["to"]])],
    "Shape": lambda v, a, s: [_shape(v[0], a)],
    "Gather": lambda v, a, s: [np.take(v[0], v[1], axis=a.get("axis", 0))],
    "GatherND": lambda v, a, s: [_gather_nd(v[0], v[1])],
    "Slice": lambda v, a, s: [_slice(*v)],
    "Squeeze": lambda v, a, s: [
        np.squeeze(v[0], axis=tuple(v[1])) if len(v) > 1 else np.squeeze(v[0])
    ],
    "Unsqueeze": lambda v, a, s: [np.expand_dims(v[0], axis=tuple(int(i) for i in v[1]))],
    "Concat": lambda v, a, s: [np.concatenate(v, axis=a["axis"])],
    "Range": lambda v, a, s: [np.arange(v[0], v[1], v[2]).astype(v[0].dtype)],
    "Expand": lambda v, a, s: [v[0] * np.ones(tuple(int(d) for d in v[1]), dtype=v[0].dtype)],
    "Reshape": lambda v, a, s: [_reshape(v[0], v[1], a.get("allowzero", 0))],
    "Transpose": lambda v, a, s: [np.transpose(v[0], a.get("perm"))],
    "Softmax": lambda v, a, s: [_softmax(v[0], a.get("axis", -1))],
    "LayerNormalization": lambda v, a, s: [_layer_norm(v[0], v[1], v[2], a)],
    "MatMul": lambda v, a, s: [np.matmul(v[0], v[1])],
    "DequantizeLinear": lambda v, a, s: [_dequantize(v[0], v[1], v[2], a.get("axis", 1))],
    "DynamicQuantizeLinear": lambda v, a, s: _dynamic_quantize(v[0]),
    "MatMulInteger": lambda v, a, s: [matmul_integer(v[0], v[1], v[2], v[3], s)],
}


def run_graph(
    graph: Graph, feeds: dict[str, NDArray[Any]], *, saturate: bool = False
) -> list[NDArray[Any]]:
    """Evaluate the graph on ``feeds`` and return its outputs.

    Args:
        graph: The graph.
        feeds: The inputs by name.
        saturate: Emulate the AVX2 int8 kernel's int16 saturation in ``MatMulInteger``.
    """
    values: dict[str, Any] = {**graph.initializers, **feeds}
    for node in graph.nodes:
        if node.op not in _OPS:
            raise NotImplementedError(f"the reference evaluator has no {node.op}")
        args = [values[name] if name else None for name in node.inputs]
        results = _OPS[node.op](args, node.attrs, saturate)
        for name, result in zip(node.outputs, results, strict=False):
            values[name] = np.asarray(result)
    return [values[name] for name in graph.outputs]


def erf_is_accurate() -> bool:
    """Sanity check of :func:`_erf` against :func:`math.erf` (used by the tests)."""
    xs = np.linspace(-6, 6, 1001, dtype=np.float32)
    expected = np.array([math.erf(float(x)) for x in xs], dtype=np.float32)
    return bool(np.max(np.abs(_erf(xs) - expected)) < 1e-6)
