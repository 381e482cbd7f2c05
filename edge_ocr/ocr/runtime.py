"""Run a model file behind one tiny interface, so stages never import an inference runtime."""

from __future__ import annotations

import importlib
import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from edge_ocr.errors import ModelError
from edge_ocr.ocr.defaults import INTERPRETERS
from edge_ocr.ocr.quiet import runtime_chatter_hidden
from edge_ocr.ocr.reshape import reshaped_model


class Session(Protocol):
    """A loaded model: takes one NHWC float32 batch, returns the first output."""

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


def _check_tflite(path: Path) -> None:
    """Refuse a file that is not a TFLite flatbuffer before any runtime (or the reshaper) reads it."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head[4:8] != b"TFL3":  # tflite-runtime 2.14 does not verify files and may crash
        raise ModelError(f"model file {path}: the runtime cannot load it: not a TFLite flatbuffer")


class TFLiteSession:
    """A LiteRT / tflite-runtime interpreter with fixed (static) input and output tensors."""

    def __init__(self, path: Path, threads: int, interpreter_cls: type, content: bytes | None = None) -> None:
        _check_tflite(path)
        try:
            # allocate_tensors prints "INFO: Created TensorFlow Lite XNNPACK delegate" on fd 2 (the first
            # time in a process); the constructor is inside too, at no cost, should a runtime print there.
            with runtime_chatter_hidden():
                if content is None:
                    self._interp = interpreter_cls(model_path=str(path), num_threads=threads)
                else:  # the file's bytes rewritten (reshape.py); the interpreter reads them in place
                    self._content = content
                    self._interp = interpreter_cls(model_content=content, num_threads=threads)
                self._interp.allocate_tensors()
        except (ValueError, RuntimeError, SystemError) as exc:
            raise ModelError(f"model file {path}: the runtime cannot load it: {exc}") from exc
        inp = self._interp.get_input_details()[0]
        out = self._interp.get_output_details()[0]
        self._in_index = inp["index"]
        self._out_index = out["index"]
        self.input_shape = tuple(int(d) for d in inp["shape"])
        self.output_shape = tuple(int(d) for d in out["shape"])
        self.path = path

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if batch.shape != self.input_shape:
            raise ValueError(f"{self.path.name}: input {batch.shape} != model {self.input_shape}")
        self._interp.set_tensor(self._in_index, np.ascontiguousarray(batch, dtype=np.float32))
        self._interp.invoke()
        return self._interp.get_tensor(self._out_index).copy()


class OnDemandSession:
    """A model whose interpreter exists only from its first call until release(): in low-memory mode the
    detector's and the second opinion's arenas are not held while the other stages run."""

    def __init__(self, load: Callable[[], Session]) -> None:
        self._load = load
        first = load()  # once at start: a broken file fails at start-up, and the shapes are known
        self.input_shape, self.output_shape = first.input_shape, first.output_shape
        self.path = getattr(first, "path", None)
        self._session: Session | None = None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if self._session is None:
            self._session = self._load()
        return self._session(batch)

    def release(self) -> None:
        """Drop the interpreter (its arena and packed weights) until the next call."""
        self._session = None


def release(session: object) -> None:
    """Let an on-demand session drop its interpreter; a resident one keeps it."""
    if isinstance(session, OnDemandSession):
        session.release()


class OnnxSession:
    """onnxruntime on the original ONNX file: for development comparisons, never on a device."""

    def __init__(self, path: Path, threads: int, input_shape: tuple[int, ...]) -> None:
        import onnxruntime as ort  # development-only dependency

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self._sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self._name = self._sess.get_inputs()[0].name
        self.input_shape = input_shape
        self.path = path
        self.output_shape = tuple(self(np.zeros(input_shape, dtype=np.float32)).shape)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        out = self._sess.run(None, {self._name: np.ascontiguousarray(batch.transpose(0, 3, 1, 2))})
        result = out[0]
        if result.ndim == 4 and result.shape[1] == 1:  # NCHW probability map -> NHWC
            result = result.transpose(0, 2, 3, 1)
        return result


def _tensor_shapes(content: bytes, interpreter_cls: type) -> dict[int, list[int]]:
    """Every tensor's shape as the runtime's built-in kernels compute it (no delegate: nothing is run or
    allocated), indexed by tensor."""
    resolver = sys.modules[interpreter_cls.__module__].OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interp = interpreter_cls(model_content=content, experimental_op_resolver_type=resolver)
    interp.allocate_tensors()
    return {t["index"]: [int(d) for d in t["shape"]] for t in interp.get_tensor_details()}


def reshaped_content(path: Path, input_hw: tuple[int, int], interpreter_cls: type) -> bytes:
    """The model file's bytes rewritten for a smaller input (reshape.py), shapes measured by this runtime."""
    _check_tflite(path)
    try:
        return reshaped_model(path, *input_hw, lambda b: _tensor_shapes(b, interpreter_cls))
    except (ValueError, RuntimeError, SystemError, struct.error, IndexError) as exc:
        raise ModelError(f"model file {path}: cannot run it at {input_hw}: {exc}") from exc


def _interpreter_from(module: str) -> type:
    """Import an Interpreter class, so a missing runtime is a clear error, not a crash."""
    return importlib.import_module(module).Interpreter


def resolve_interpreter(runtime: str = "auto") -> tuple[str, type]:
    """Pick the TFLite runtime: LiteRT first, tflite-runtime as the fallback."""
    if runtime == "auto":  # an explicit choice wins over the environment
        runtime = os.environ.get("EDGE_OCR_RUNTIME", "auto") or "auto"
    names = list(INTERPRETERS) if runtime == "auto" else [runtime]
    errors = []
    for name in names:
        if name not in INTERPRETERS:
            raise ModelError(f"unknown runtime {name!r}; choose one of auto, {', '.join(INTERPRETERS)}")
        try:
            return name, _interpreter_from(INTERPRETERS[name])
        except ImportError as exc:
            errors.append(f"{INTERPRETERS[name]}: {exc}")
    raise ModelError(
        "no TFLite runtime is installed (pip install ai-edge-litert, or tflite-runtime): " + "; ".join(errors)
    )


SessionFactory = Callable[..., Session]  # (path, threads, input_hw=None, on_demand=False) -> Session


def tflite_factory(runtime: str = "auto") -> tuple[str, SessionFactory]:
    """A factory that opens model files with the chosen TFLite runtime.

    input_hw: a smaller input for a fully convolutional model (reshape.py); on_demand: an
    OnDemandSession, loaded at each first call after a release.
    """
    name, cls = resolve_interpreter(runtime)

    def open_model(
        path: Path, threads: int, input_hw: tuple[int, int] | None = None, on_demand: bool = False
    ) -> Session:
        content = None if input_hw is None else reshaped_content(path, input_hw, cls)
        if on_demand:
            return OnDemandSession(lambda: TFLiteSession(path, threads, cls, content))
        return TFLiteSession(path, threads, cls, content)

    return name, open_model
