"""Integer quantisation of a converted SavedModel, kept compatible with tflite-runtime 2.14."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np


def quantize(saved_model: Path, dst: Path, calib: np.ndarray | None) -> Path:
    """Integer-quantise a SavedModel: dynamic-range without calib, full-integer with it."""
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    # The newer dynamic-range quantiser emits FULLY_CONNECTED v12 and hybrid TRANSPOSE_CONV,
    # which tflite-runtime 2.14 (Raspberry Pi OS) rejects; the older one does neither.
    conv.experimental_new_dynamic_range_quantizer = False
    if calib is not None:

        def representative() -> Iterator[list[np.ndarray]]:
            for sample in calib:
                yield [sample[None].astype(np.float32)]

        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.float32
        conv.inference_output_type = tf.float32
    dst.write_bytes(conv.convert())
    return dst
