"""A separate process that writes scans into a store (or reads one) for the durability tests.

    python tests/store_child.py STATE_DIR --ack ACK_LOG [--seed N] [--images-every K] [--old-every K]
    python tests/store_child.py STATE_DIR --read-for SECONDS --report REPORT.json

Writer: stores scans in a loop and, after each `save_scan` returns, appends "ID DIGEST KIND" to the
acknowledgement log with flush + fsync, so a parent that SIGKILLs it knows which saves returned.
Each scan's fingerprint holds its line and code counts and the digest of its content, so any scan
found in the database later can be checked for completeness, acknowledged or not. Prints "ready"
once the store is open. Reader: opens the store read-only and searches, lists and loads scans in a
loop, recording every error and the scan counts it saw (used in-process by the tests too).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from edge_ocr.results import Code, PageResult, TextLine  # noqa: E402
from edge_ocr.store import ImagePolicy, RetentionPolicy, ScanInfo, Store, StoreSettings  # noqa: E402
from edge_ocr.store import images as image_files  # noqa: E402
from edge_ocr.store.search import search  # noqa: E402

WORDS = (
    "pump",
    "station",
    "valve",
    "north",
    "south",
    "east",
    "west",
    "dock",
    "bay",
    "gate",
    "lot",
    "batch",
    "serial",
    "part",
    "model",
    "rev",
    "made",
    "in",
    "germany",
    "china",
    "warning",
    "fragile",
    "keep",
    "dry",
    "handle",
    "with",
    "care",
    "net",
    "weight",
    "gross",
    "qty",
    "pcs",
    "exp",
    "mfg",
    "date",
    "voltage",
    "ampere",
    "hz",
    "ip65",
    "class",
    "inspected",
    "passed",
    "tag",
    "asset",
    "property",
    "of",
    "return",
    "to",
    "sender",
)
COMMON_WORD = "station"  # in every scan's first line, so a reader's search always has hits
DAY_MS = 86_400_000
POLICY = ImagePolicy(keep="all")


@dataclass(frozen=True)
class Planned:
    """One scan the writer is about to store, with what the parent needs to check it later."""

    result: PageResult
    image: np.ndarray | None
    image_sha: str  # sha256 of the JPEG + thumbnail the store will write, or "-"
    digest: str
    fingerprint: str
    token: str  # a word that occurs only in this scan's first line
    old: bool  # captured 200 days ago: retention may delete it


def digest_of(result: PageResult, image_sha: str) -> str:
    """Content digest of a scan as stored (texts, confidences, polygons, code bytes, image files)."""
    doc = {
        "lines": [[ln.text, ln.confidence, [list(p) for p in ln.polygon]] for ln in result.lines],
        "codes": [[c.symbology, c.data.hex(), c.text, [list(p) for p in c.polygon]] for c in result.codes],
        "image": image_sha,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def make_fingerprint(n_lines: int, n_codes: int, image_sha: str, digest: str) -> str:
    """What the writer stores in `fingerprint`: enough to check a scan without the ack log."""
    return f"v1|{n_lines}|{n_codes}|{image_sha}|{digest}"


def parse_fingerprint(fingerprint: str) -> tuple[int, int, str, str]:
    """Inverse of make_fingerprint: (lines, codes, image sha, digest)."""
    tag, n_lines, n_codes, image_sha, digest = fingerprint.split("|")
    if tag != "v1":
        raise ValueError(f"not a store_child fingerprint: {fingerprint!r}")
    return int(n_lines), int(n_codes), image_sha, digest


def image_sha_of(encoded: image_files.Encoded) -> str:
    """Digest of both kept files, as the store will write them (JPEG encoding is deterministic)."""
    return hashlib.sha256(encoded.jpeg + encoded.thumb).hexdigest()[:32]


def _label_line(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return f"PN {rng.randrange(1000, 9999)}-{rng.choice('ABCDEFGH')}X{rng.randrange(10)}"
    if kind == 1:
        return f"SN {rng.randrange(16**6):06X}"
    if kind == 2:
        return f"LOT {rng.randrange(2020, 2030)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(2, 7)))


def _polygon(rng: random.Random) -> tuple[tuple[float, float], ...]:
    x, y = round(rng.uniform(0, 600), 1), round(rng.uniform(0, 400), 1)
    w, h = round(rng.uniform(20, 300), 1), round(rng.uniform(8, 40), 1)
    return ((x, y), (round(x + w, 1), y), (round(x + w, 1), round(y + h, 1)), (x, round(y + h, 1)))


def plan_scan(rng: random.Random, seed: int, index: int, with_image: bool, old: bool) -> Planned:
    """5-20 lines, 0-2 codes (text or binary), optionally a small random frame."""
    token = f"tok{seed}x{index}"
    lines = [TextLine(f"{token} {COMMON_WORD} {_label_line(rng)}", round(rng.random(), 4), _polygon(rng))]
    lines += [
        TextLine(_label_line(rng), round(rng.random(), 4), _polygon(rng)) for _ in range(rng.randrange(4, 20))
    ]
    codes = []
    for i in range(rng.randrange(3)):
        if rng.random() < 0.5:
            text = f"code{token}n{i} {rng.randrange(10**12):012d}"
            codes.append(Code("QRCode", text.encode(), text, _polygon(rng), readers=("zxing",)))
        else:  # binary payload, with GS and NUL bytes that must survive as they are
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) + b"\x1d\x00"
            codes.append(Code("DataMatrix", data, None, _polygon(rng), content_type="binary"))
    image, image_sha = None, "-"
    if with_image:
        np_rng = np.random.default_rng(rng.randrange(2**32))
        image = np_rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
        image_sha = image_sha_of(image_files.encode(image, POLICY))
    result = PageResult(f"child/{seed}", index + 1, 640, 480, lines, {"detect": 1.5}, 0, "ocr", codes)
    digest = digest_of(result, image_sha)
    fingerprint = make_fingerprint(len(lines), len(codes), image_sha, digest)
    return Planned(result, image, image_sha, digest, fingerprint, token, old)


def messages_for(planned: Planned):
    """The outbox builder: one message naming the scan and its digest."""

    def build(info: ScanInfo) -> list[tuple[str, dict]]:
        payload = {"scan_id": info.scan_id, "digest": planned.digest, "token": planned.token}
        return [(f"edge-ocr/{info.device}/scan", payload)]

    return build


def parse_acks(path: Path) -> list[tuple[int, str, str, str]]:
    """Complete ack lines in order: (scan id, digest, "new" | "old", token); a torn last line is ignored."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().split("\n")[:-1]:  # the part after the last newline never completed
        scan_id, digest, kind, token = line.split(" ")
        out.append((int(scan_id), digest, kind, token))
    return out


def write_loop(args: argparse.Namespace) -> int:
    """Store scans until killed (or --max-scans / --duration), acknowledging each one durably."""
    retention = RetentionPolicy(min_free_bytes=0)
    settings = StoreSettings(
        device="child", images=POLICY, retention=retention, retention_every=args.retention_every
    )
    store = Store(Path(args.state_dir), settings)
    rng = random.Random(args.seed)
    fd = os.open(args.ack, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    print("ready", flush=True)
    deadline = time.monotonic() + args.duration if args.duration else None
    index = 0
    while (not args.max_scans or index < args.max_scans) and (
        deadline is None or time.monotonic() < deadline
    ):
        with_image = args.images_every > 0 and index % args.images_every == 0
        old = args.old_every > 0 and index % args.old_every == args.old_every - 1
        planned = plan_scan(rng, args.seed, index, with_image, old)
        captured = int(time.time() * 1000) - (200 * DAY_MS if old else 0)
        scan_id = store.save_scan(
            planned.result,
            captured_ms=captured,
            fingerprint=planned.fingerprint,
            image=planned.image,
            messages=messages_for(planned),
        )
        os.write(fd, f"{scan_id} {planned.digest} {'old' if old else 'new'} {planned.token}\n".encode())
        os.fsync(fd)
        index += 1
    os.close(fd)
    store.close()
    return 0


def scan_is_complete(scan) -> bool:
    """A stored scan holds exactly the lines, codes and image its writer planned."""
    n_lines, n_codes, image_sha, digest = parse_fingerprint(scan.fingerprint)
    result = scan.result
    return (
        len(result.lines) == n_lines
        and len(result.codes) == n_codes
        and digest_of(result, image_sha) == digest
    )


def read_loop(state_dir: Path, seconds: float, min_iterations: int = 20, cap_s: float = 30.0) -> dict:
    """Search, list and load scans read-only for a while; every error and every count seen is reported.

    Reads for `seconds` and at least `min_iterations` times (a busy CPU slows each round), but
    never longer than `cap_s`.
    """
    errors: list[str] = []
    counts: list[int] = []
    incomplete: list[int] = []
    iterations = loaded = 0
    store = Store(state_dir, StoreSettings(device="reader"), readonly=True)
    start = time.monotonic()
    try:
        while time.monotonic() - start < cap_s and (
            time.monotonic() - start < seconds or iterations < min_iterations
        ):
            iterations += 1
            try:
                counts.append(store.status().scans)
                hits = search(store, COMMON_WORD, limit=20)
                newest = max((h.scan_id for h in hits), default=None)
                scans = [store.get_scan(newest)] if newest is not None else []
                scans += list(store.iter_scans(since_ms=int(time.time() * 1000) - 1000))
                for scan in scans:
                    loaded += 1
                    if scan is None or not scan_is_complete(scan):
                        incomplete.append(newest if scan is None else scan.id)
            except Exception as exc:  # every failure is the finding: reported, not raised
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        store.close()
    drops = [(a, b) for a, b in itertools.pairwise(counts) if b < a]
    return {
        "iterations": iterations,
        "scans_loaded": loaded,
        "errors": errors,
        "first_count": counts[0] if counts else None,
        "last_count": counts[-1] if counts else None,
        "count_drops": drops,
        "incomplete": incomplete,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state_dir")
    parser.add_argument("--ack", help="acknowledgement log (writer)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--images-every", type=int, default=4, help="keep a frame with every K-th scan (0: never)"
    )
    parser.add_argument("--old-every", type=int, default=0, help="every K-th scan is 200 days old (0: never)")
    parser.add_argument("--retention-every", type=int, default=200)
    parser.add_argument("--max-scans", type=int, default=0)
    parser.add_argument("--duration", type=float, default=0.0)
    parser.add_argument("--read-for", type=float, default=0.0, help="reader: seconds to read")
    parser.add_argument("--report", help="reader: where to write the JSON report")
    args = parser.parse_args()
    if args.read_for:
        report = read_loop(Path(args.state_dir), args.read_for)
        Path(args.report).write_text(json.dumps(report))
        return 0
    if not args.ack:
        parser.error("--ack is required for the writer")
    return write_loop(args)


if __name__ == "__main__":
    sys.exit(main())
