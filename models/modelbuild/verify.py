"""--check-only: re-check what models/ ships against freshly extracted ONNX originals."""

from __future__ import annotations

from pathlib import Path

from .checks import OrtModel, check_model, compat_failures, fmt_row
from .config import CHECK_SEED, MAX_SHIPPED_BYTES, N_CHECK, RUN, sha256_file
from .manifest import load_manifest, shipped_bytes
from .samples import make_inputs
from .sources import cjk_chars, load_dict
from .specs import SPECS, ModelJob, PackSpec, jobs_for, ship_spec


def check_shipped(src: Path, names: list[str]) -> list[str]:
    """Re-check shipped packs/components against freshly extracted ONNX; return problems."""
    manifest = load_manifest()
    problems = []
    for name in names:
        spec = SPECS[name]
        entry = manifest["shared" if spec.shared else "packs"].get(name)
        if entry is None:
            problems.append(f"{name}: not in manifest")
            continue
        entries = load_dict(spec, src)
        if not spec.shared:
            dict_file = RUN.out / entry["dict"]["file"]
            if sha256_file(dict_file) != entry["dict"]["sha256"]:
                problems.append(f"{name}: dict.txt sha256 differs from the manifest")
            if dict_file.read_bytes() != ("\n".join(entries) + "\n").encode("utf-8"):
                problems.append(f"{name}: dict.txt differs from the source dictionary")
        cjk = cjk_chars(entries)
        own = [m for m in entry["models"] if m["file"].startswith(f"{name}/")]
        for m in own:
            problems += check_entry(name, m, src, cjk)
        problems += check_layout(name, spec, entry, own, manifest)
    size = shipped_bytes()
    print(f"models/ holds {size / 1e6:.2f} MB (limit {MAX_SHIPPED_BYTES / 1e6:.0f} MB)")
    if size > MAX_SHIPPED_BYTES:
        problems.append(f"models/ is {size / 1e6:.1f} MB, over the limit")
    return problems


def check_layout(name: str, spec: PackSpec, entry: dict, own: list[dict], manifest: dict) -> list[str]:
    """The files of a folder are what its ShipSpec names, no more; shared cls entries match."""
    problems = []
    wanted = ship_spec(name)
    expect = {
        f"{name}/{job.key}_{v}.tflite"
        for job in jobs_for(spec)
        for v in wanted.variants
        if wanted.wants(job.key, v)
    }
    listed = {m["file"] for m in own}
    if listed != expect:
        problems.append(
            f"{name}: manifest lists {sorted(listed - expect)} beyond and lacks "
            f"{sorted(expect - listed)} of its ShipSpec"
        )
    folder = RUN.out / name
    on_disk = {f"{name}/{p.name}" for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()
    stray = on_disk - listed - ({f"{name}/dict.txt"} if not spec.shared else set())
    if stray:
        problems.append(f"{name}: files not in the manifest: {sorted(stray)}")
    if spec.cls_from:
        donor = manifest["shared"].get(spec.cls_from, {"models": []})
        want = sorted((m["file"], m["sha256"]) for m in donor["models"] if m["role"] == "cls")
        got = sorted((m["file"], m["sha256"]) for m in entry["models"] if m["role"] == "cls")
        if not want or want != got:
            problems.append(f"{name}: cls entries do not match shared {spec.cls_from}")
    return problems


def check_entry(pack: str, m: dict, src: Path, cjk: list[str]) -> list[str]:
    """Re-check one manifest model entry; print its row; return problems."""
    path, original = RUN.out / m["file"], src / m["source_file"]
    problems = []
    if sha256_file(path) != m["sha256"]:
        problems.append(f"{m['file']}: sha256 differs from the manifest")
    if sha256_file(original) != m["source_sha256"]:
        problems.append(f"{m['source_file']}: source ONNX differs from the one it was built from")
    _, h, w, _ = m["input_shape"]
    job = ModelJob(m["role"], h, w)
    inputs = make_inputs(job, N_CHECK[job.role], CHECK_SEED, cjk)
    ref = OrtModel(original)
    refs = [ref(x[None]) for x in inputs]
    chk, _ = check_model(path, job.role, inputs, refs, list(job.nhwc))
    print(fmt_row(pack, job.key, m["variant"], job.role, chk, path.stat().st_size), flush=True)
    for reason in compat_failures([path]).values():
        problems.append(f"{m['file']}: fails in tflite-runtime 2.14: {reason}")
    stored = m["check"]
    for key in ("mask_agreement", "argmax_agreement", "ctc_identical"):
        if key in stored and chk[key] + 1e-9 < stored[key]:
            problems.append(f"{m['file']}: {key} {chk[key]} < recorded {stored[key]}")
    return problems
