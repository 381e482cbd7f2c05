"""What the emulated aarch64 interpreter really is and loads (run by scripts/test_arm.sh under QEMU).

Prints platform.machine(), the Python and package versions, the CPU the guest sees and the TFLite
runtime edge_ocr picks; then reads a Code 128 and a QR code with ZBar alone and checks in
/proc/self/maps that the libzbar mapped is the arm64 root's, and that every ELF file mapped into
the process is an AArch64 one (no host x86 library can have been used). Exits 1 on any failure.

    python -m tests.arm.guest_report --runtime litert --root ROOT [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import struct
import sys
from importlib import metadata
from pathlib import Path

EM_AARCH64 = 183
PACKAGES = (
    "numpy",
    "opencv-python-headless",
    "pyclipper",
    "pillow",
    "pypdfium2",
    "ai-edge-litert",
    "tflite-runtime",
    "zxing-cpp",
    "pyzbar",
    "paho-mqtt",
    "pytest",
)
SAMPLE = Path(__file__).resolve().parents[2] / "edge_ocr" / "samples" / "asset-tag.jpg"
WANT_CODES = {("Code128", "00417-PS3"), ("QRCode", "https://assets.example/00417-PS3")}


def elf_machine(path: str) -> int | None:
    """e_machine of an ELF file (little-endian), None when the file is not ELF or unreadable."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    return struct.unpack_from("<H", head, 18)[0]


def mapped_files() -> list[str]:
    """The files mapped into this process, in the order /proc/self/maps lists them."""
    seen: dict[str, None] = {}
    with open("/proc/self/maps") as fh:
        for line in fh:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and parts[5].startswith("/"):
                seen.setdefault(parts[5].strip(), None)
    return list(seen)


def cpu_seen() -> str:
    """The CPU part and features /proc/cpuinfo shows the guest (the root's file under QEMU -L)."""
    fields = {}
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    return f"part {fields.get('CPU part', '?')}, features: {fields.get('Features', '?')}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", required=True, help="the TFLite runtime expected: litert|tflite_runtime")
    parser.add_argument("--root", required=True, help="the arm64 root folder (host path)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    problems: list[str] = []

    report: dict = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpu": cpu_seen(),
        "packages": {},
    }
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            report["packages"][name] = metadata.version(name)
    if report["machine"] != "aarch64":
        problems.append(f"platform.machine() is {report['machine']!r}, not 'aarch64'")

    from edge_ocr.ocr.runtime import resolve_interpreter

    runtime, interpreter = resolve_interpreter(args.runtime)
    report["runtime"] = runtime
    report["runtime_module"] = sys.modules[interpreter.__module__].__file__

    import cv2

    from edge_ocr.codes.scanner import make_reader

    gray = cv2.imread(str(SAMPLE), cv2.IMREAD_GRAYSCALE)
    codes = {(c.symbology, c.text) for c in make_reader("zbar", 1).read(gray)}
    report["zbar_codes"] = sorted(f"{s}:{t}" for s, t in codes)
    if not codes >= WANT_CODES:
        problems.append(f"ZBar read {sorted(codes)} from {SAMPLE.name}, expected {sorted(WANT_CODES)}")

    files = mapped_files()
    root = str(Path(args.root).resolve()) + "/"
    zbar = [f for f in files if "/libzbar.so" in f]
    report["libzbar_mapped"] = zbar
    if not zbar:
        problems.append("no libzbar is mapped into the process after a ZBar read")
    for path in zbar:
        if not path.startswith(root) or elf_machine(path) != EM_AARCH64:
            problems.append(f"libzbar mapped from {path}: not the arm64 root's AArch64 library")
    elf = {f: elf_machine(f) for f in files}
    foreign = [f"{f} (e_machine {m})" for f, m in elf.items() if m is not None and m != EM_AARCH64]
    report["elf_files_mapped"] = sum(m is not None for m in elf.values())
    if foreign:
        problems.append("non-AArch64 ELF files are mapped: " + ", ".join(foreign))
    report["problems"] = problems

    print(f"platform.machine(): {report['machine']}   Python {report['python']}   CPU {report['cpu']}")
    print(f"runtime: {runtime} ({report['runtime_module']})")
    print("packages: " + ", ".join(f"{k}=={v}" for k, v in report["packages"].items()))
    print(f"libzbar: {', '.join(zbar) or 'not mapped'}; ZBar read: {', '.join(report['zbar_codes'])}")
    print(f"{report['elf_files_mapped']} ELF files mapped, all AArch64: {not foreign}")
    for problem in problems:
        print(f"FAIL: {problem}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
