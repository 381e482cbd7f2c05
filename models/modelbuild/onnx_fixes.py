"""ONNX graph rewrites that onnx2tf needs to convert the PaddleOCR models correctly."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any


def sanitize_names(graph: Any) -> int:
    """Make node names valid TensorFlow scope names (onnx2tf fails on 'Softmax@0')."""
    seen: set[str] = set()
    changed = 0
    for i, node in enumerate(graph.node):
        name = re.sub(r"[^A-Za-z0-9_./-]", "_", node.name) or f"node_{i}"
        while name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        if name != node.name:
            node.name = name
            changed += 1
    return changed


def erf_as_tanh(graph: Any) -> int:
    """Replace every Erf(u) with tanh(u*(a + b*u^2)), the tanh-GELU form; return the count."""
    from onnx import TensorProto, helper

    a = 2.0 / math.sqrt(math.pi)  # erf(u) ~ tanh(2/sqrt(pi) * (u + 0.044715*2*u^3))
    b = a * 0.044715 * 2.0
    graph.initializer.extend(
        [
            helper.make_tensor("erf_tanh_a", TensorProto.FLOAT, [], [a]),
            helper.make_tensor("erf_tanh_b", TensorProto.FLOAT, [], [b]),
        ]
    )
    nodes = []
    count = 0
    for node in graph.node:
        if node.op_type != "Erf":
            nodes.append(node)
            continue
        u, out, p = node.input[0], node.output[0], f"erf_tanh_{count}"
        nodes += [
            helper.make_node("Mul", [u, u], [f"{p}_u2"], name=f"{p}_sq"),
            helper.make_node("Mul", [f"{p}_u2", "erf_tanh_b"], [f"{p}_bu2"], name=f"{p}_mb"),
            helper.make_node("Add", [f"{p}_bu2", "erf_tanh_a"], [f"{p}_k"], name=f"{p}_add"),
            helper.make_node("Mul", [u, f"{p}_k"], [f"{p}_arg"], name=f"{p}_mu"),
            helper.make_node("Tanh", [f"{p}_arg"], [out], name=f"{p}_tanh"),
        ]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return count


ELEMENTWISE = {"BatchNormalization", "HardSigmoid", "HardSwish", "Mul", "Add", "Relu", "Sigmoid"}


def attr_ints(node: Any, name: str) -> list[int]:
    """Integer-list attribute of a node ([] if absent)."""
    return next((list(a.ints) for a in node.attribute if a.name == name), [])


def is_region_end(node: Any) -> bool:
    """Unsqueeze(axes=[2]) or Transpose(perm=[0,2,1]): where a squeezed 3D region ends."""
    if node.op_type == "Unsqueeze":
        return attr_ints(node, "axes") == [2]
    return node.op_type == "Transpose" and attr_ints(node, "perm") == [0, 2, 1]


def squeezed_region(sq: Any, consumers: dict[str, list], scalars: set[str]) -> list | None:
    """Nodes fed by a Squeeze(axes=[2]) up to Unsqueeze(2)/Transpose(0,2,1); None if unsafe."""
    tensors, ends, frontier, seen = {sq.output[0]}, [], [sq.output[0]], set()
    while frontier:
        for node in consumers.get(frontier.pop(), []):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if is_region_end(node):
                ends.append(node)
            elif node.op_type in ELEMENTWISE:
                if node.op_type in ("Mul", "Add") and any(
                    i not in tensors and i not in scalars for i in node.input
                ):
                    return None  # another 3D operand: keeping 4D would change broadcasting
                tensors.update(node.output)
                frontier.extend(node.output)
            else:
                return None
    return ends


def keep_4d(model: Any) -> int:
    """Drop Squeeze(2)..Unsqueeze(2) detours around 1-D BatchNorm so onnx2tf keeps NHWC right."""
    from onnx import numpy_helper, shape_inference

    graph = model.graph
    inferred = shape_inference.infer_shapes(model).graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in inferred.value_info}
    scalars = {i.name for i in graph.initializer if numpy_helper.to_array(i).size == 1}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    renames, drop, count = {}, set(), 0
    for sq in [n for n in graph.node if n.op_type == "Squeeze"]:
        shape = shapes.get(sq.input[0], [])
        if len(sq.input) != 1 or attr_ints(sq, "axes") != [2] or shape[2:3] != [1]:
            continue
        ends = squeezed_region(sq, consumers, scalars)
        if ends is None or len(shape) != 4:
            continue
        renames[sq.output[0]] = sq.input[0]
        drop.add(id(sq))
        for end in ends:
            if end.op_type == "Unsqueeze":
                renames[end.output[0]] = end.input[0]
                drop.add(id(end))
            else:
                next(a for a in end.attribute if a.name == "perm").ints[:] = [0, 2, 3, 1]
        count += 1
    kept = [n for n in graph.node if id(n) not in drop]
    for node in kept:
        for k, name in enumerate(node.input):
            node.input[k] = renames.get(name, name)
    del graph.node[:]
    graph.node.extend(kept)
    del graph.value_info[:]
    return count


def prepare_onnx(src: Path, dst: Path, rewrite_erf: bool) -> int:
    """Copy src to dst with sanitised node names and optionally Erf rewritten; Erf count."""
    import onnx

    model = onnx.load(str(src))
    sanitize_names(model.graph)
    count = erf_as_tanh(model.graph) if rewrite_erf else 0
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return count
