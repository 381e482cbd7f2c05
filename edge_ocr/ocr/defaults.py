"""The OCR defaults, defined once: the stages' settings and the [ocr] section both read them here
(a module with no imports, so the configuration can use it without numpy or OpenCV)."""

THREADS = 2  # inference threads (XNNPACK)
RUNTIME = "auto"  # LiteRT, else tflite-runtime
MIN_CONFIDENCE = 0.5  # lines read less surely are dropped
MAX_SIDE = 1792  # long side of the detector's fine (tiled) pass, pixels
SECOND_OPINION = "auto"  # the pack's choice in the manifest
SECOND_OPINION_BELOW = 0.98  # lines read less surely are re-read by the second opinion
MEMORY = "auto"  # auto (low below LOW_MEMORY_BELOW_MB of RAM) | low | normal
MEMORY_CHOICES = ("auto", "low", "normal")
LOW_MEMORY_BELOW_MB = 768  # MemTotal under this (Pi Zero 2 W: 512 MB) picks the low-memory mode
LOW_MEMORY_TILE = 320  # detector tile side in low-memory mode (the model's own input is 640)
LOW_MEMORY_OVERLAP = 96  # tile overlap there (64 on 640 tiles)

# Registered explicitly: runtime name -> the module that provides a TFLite-compatible Interpreter.
INTERPRETERS = {
    "litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
}
