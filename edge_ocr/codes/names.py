"""Reader and retry-step names, importable without OpenCV: the configuration checks against them."""

READERS = ("zxing", "zbar")
RETRY_STEPS = ("dense", "upscale", "downscale", "sharpen", "equalise", "binarise", "invert", "rotate45")
# Kept after measuring each step's gain and cost (README, "Codes: the retry ladder").
DEFAULT_RETRY = ("dense", "downscale", "equalise", "binarise", "upscale", "rotate45")
DEFAULT_BUDGET_MS = 300.0  # per frame; the ladder stops at the first step past it
DEFAULT_ZBAR_DENSITY = 2  # first pass: ZBar scans every Nth line (the "dense" step scans all)
