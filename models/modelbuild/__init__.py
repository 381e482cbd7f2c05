"""The model build behind models/build_models.py, one stage per module (build-time only).

config: shared numbers and run options; specs: what is built and shipped; sources: wheels and
dictionaries; onnx_fixes: graph rewrites for onnx2tf; convert and quantize: ONNX to TFLite;
samples: rendered inputs; checks: numeric checks against onnxruntime; pack: one pack end to end;
manifest: shipping and manifest.json; verify: --check-only; cli: the command line.
"""
