"""The local store, measured: save rate, search latency at 100k and 1M lines, bytes per line.

    .venv/bin/python benchmarks/store_bench.py [--quick]

(a) `save_scan` rate on the local disk under bench-out/: 20 lines + 1 code + 2 outbox rows per scan,
    each call its own fsynced transaction (WAL, synchronous = FULL, the shipped settings), timed per
    call; measured on an empty store and again on the 1M-line store.
(b) `search(..., limit=20)` latency (median, p95) at 100,000 and 1,000,000 stored lines for rare
    words, common words, phrases, serials, prefixes, --since and codes-only queries, on a fresh
    read-only Store as the CLI opens it (page cache warm: the store was just built).
(c) database bytes per stored line (checkpointed file; code and outbox rows included), split by table.

The big stores are built with the same `save_scan` calls, but with `PRAGMA synchronous = OFF` on the
builder's connection (no fsync per scan); only (a) measures durable saves. --quick: 10k lines.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from edge_ocr.publish.messages import message_builder  # noqa: E402
from edge_ocr.publish.topics import Topics  # noqa: E402
from edge_ocr.results import Code, PageResult, TextLine  # noqa: E402
from edge_ocr.store import ScanInfo, Store, StoreSettings  # noqa: E402
from edge_ocr.store.search import search  # noqa: E402

LINES_PER_SCAN = 20
DAY_MS = 86_400_000
TARGET_SAVES_PER_S = 500
TARGET_SEARCH_P95_MS = 50.0
SYLLABLES = (
    "ka",
    "ro",
    "ten",
    "mi",
    "sa",
    "lu",
    "po",
    "ver",
    "an",
    "dex",
    "tor",
    "bel",
    "fi",
    "gra",
    "mon",
    "ul",
)
LABEL_WORDS = (
    "pump",
    "station",
    "valve",
    "motor",
    "filter",
    "sensor",
    "gate",
    "dock",
    "bay",
    "pallet",
    "carton",
    "fragile",
    "warning",
    "caution",
    "keep",
    "dry",
    "handle",
    "with",
    "care",
    "made",
    "in",
    "germany",
    "china",
    "italy",
    "poland",
    "mexico",
    "net",
    "weight",
    "gross",
    "batch",
    "lot",
    "serial",
    "part",
    "model",
    "rev",
    "inspected",
    "passed",
    "return",
    "to",
    "sender",
    "property",
    "of",
    "asset",
    "tag",
    "voltage",
    "max",
    "min",
    "temp",
    "output",
    "input",
    ").split(",
)
COUNTRIES = ["germany", "china", "italy", "poland", "mexico", "japan", "france", "spain"]
QUERY_KINDS = ("rare word", "common word", "phrase", "serial", "prefix", "since", "codes only")


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of a list of timings."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Corpus:
    """Generates label-like scans and remembers what it wrote, so the queries have known answers."""

    rng: random.Random
    words: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    serials: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    code_texts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        made: set[str] = set()
        while len(made) < 3000:  # pseudo-words of 2-4 syllables, Zipf-distributed (s = 1)
            made.add("".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randrange(2, 5))))
        self.words = [*LABEL_WORDS, *sorted(made - set(LABEL_WORDS))]
        self.weights = [1.0 / (rank + 1) for rank in range(len(self.words))]

    def _words(self, n: int) -> str:
        picked = self.rng.choices(self.words, self.weights, k=n)
        for w in picked:
            self.counts[w] = self.counts.get(w, 0) + 1
        return " ".join(picked)

    def line(self) -> str:
        """One label line: a part number, serial, date, quantity, rating or a few words."""
        r, kind = self.rng, self.rng.randrange(10)
        if kind == 0:
            part = f"{r.randrange(1000, 9999)}-{r.choice('ABCDEFGHJK')}{r.choice('XYZ')}{r.randrange(10)}"
            if len(self.parts) < 5000:
                self.parts.append(part)
            return f"PN {part} REV {r.choice('ABCD')}"
        if kind == 1:
            serial = f"{r.randrange(16**8):08X}"
            if len(self.serials) < 5000:
                self.serials.append(serial)
            return f"SN {serial}"
        if kind == 2:
            date = f"{r.randrange(2020, 2031)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"
            return f"{r.choice(['LOT', 'MFG', 'EXP'])} {date}"
        if kind == 3:
            return f"QTY {r.randrange(1, 500)} PCS  NET {r.randrange(1, 90)}.{r.randrange(10)} KG"
        if kind == 4:
            volts, hz, ip = r.choice([12, 24, 110, 230, 400]), r.choice([50, 60]), r.choice([44, 54, 65, 67])
            return f"{volts}V {hz}Hz {r.randrange(5, 3000)}W IP{ip}"
        if kind == 5:
            return f"made in {r.choice(COUNTRIES)}"
        return self._words(r.randrange(2, 7))

    def code(self) -> Code:
        """A GS1-like payload, a URL or a bare serial, as a code reader would report it."""
        r = self.rng
        kind = r.randrange(3)
        if kind == 0:
            expiry = f"{r.randrange(24, 31)}{r.randrange(1, 13):02d}28"
            text = f"01{r.randrange(10**13):014d}17{expiry} 10 L{r.randrange(10**6):06d}"
        elif kind == 1:
            text = f"https://id.example.com/asset/{r.randrange(16**10):010x}"
        else:
            text = f"S{r.randrange(10**9):09d}"
        if len(self.code_texts) < 5000:
            self.code_texts.append(text)
        return Code(
            "QRCode",
            text.encode(),
            text,
            ((1.0, 1.0), (90.0, 1.0), (90.0, 90.0), (1.0, 90.0)),
            readers=("zxing",),
        )

    def scan(self, index: int) -> PageResult:
        """One stored page: 20 lines and one code."""
        lines = [
            TextLine(
                self.line(),
                round(self.rng.uniform(0.6, 1.0), 4),
                ((10.0, 30.0 * i), (300.0, 30.0 * i), (300.0, 30.0 * i + 24), (10.0, 30.0 * i + 24)),
            )
            for i in range(LINES_PER_SCAN)
        ]
        return PageResult(
            f"cam{index % 4}",
            1,
            1280,
            720,
            lines,
            {"detect": 12.0, "recognise": 30.0},
            0,
            "ocr",
            [self.code()],
        )


def outbox(info: ScanInfo) -> list[tuple[str, dict]]:
    """The daemon's own outbox rows: the whole result on /scan and one /code message per code."""
    return DAEMON_MESSAGES(info)


DAEMON_MESSAGES = message_builder(Topics("edge_ocr", "bench"))


def fsync_floor_ms(folder: Path, n: int = 200) -> float:
    """Median cost of write(4 KiB) + fsync on this disk: the floor under every durable save."""
    path = folder / "fsync.probe"
    times = []
    with open(path, "wb") as fh:
        for _ in range(n):
            t = time.perf_counter()
            fh.write(os.urandom(4096))
            fh.flush()
            os.fsync(fh.fileno())
            times.append((time.perf_counter() - t) * 1000)
    path.unlink()
    return statistics.median(times)


def measure_saves(store: Store, corpus: Corpus, n: int, start_ms: int) -> dict:
    """n real save_scan calls, each its own fsynced transaction; rate and per-call ms."""
    scans = [corpus.scan(i) for i in range(n)]  # generated outside the timer
    times = []
    t0, cpu0 = time.perf_counter(), time.process_time()
    for i, result in enumerate(scans):
        t = time.perf_counter()
        store.save_scan(result, captured_ms=start_ms + i, messages=outbox)
        times.append((time.perf_counter() - t) * 1000)
    total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "scans": n,
        "scans_per_s": round(n / total, 1),
        "lines_per_s": round(n * LINES_PER_SCAN / total, 1),
        "ms_median": round(statistics.median(times), 3),
        "ms_p95": round(pct(times, 0.95), 3),
        "ms_max": round(max(times), 3),
        "cpu_ms_per_scan": round(
            cpu * 1000 / n, 3
        ),  # this process's CPU; the rest of the wall time is waiting
    }


def build(store: Store, corpus: Corpus, scans: int, first_index: int, t_start: int, t_end: int) -> float:
    """Grow the store through save_scan with fsync off (fast to build); capture times in [t_start, t_end)."""
    store.conn.execute("PRAGMA synchronous = OFF")
    t0 = time.perf_counter()
    step = (t_end - t_start) / max(1, scans)
    for i in range(scans):
        store.save_scan(corpus.scan(first_index + i), captured_ms=int(t_start + i * step), messages=outbox)
    store.conn.execute("PRAGMA synchronous = FULL")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - t0


def queries(
    corpus: Corpus, rng: random.Random, newest: int, n: int = 20
) -> dict[str, list[tuple[str, dict]]]:
    """Query strings per kind, drawn from what was stored; --since is the last day before `newest`."""
    by_freq = sorted((c, w) for w, c in corpus.counts.items())
    rare = [w for c, w in by_freq if c >= 1][:n]
    common = [w for _c, w in by_freq[-n:]]
    return {
        "rare word": [(w, {}) for w in rare],
        "common word": [(w, {}) for w in common],
        "phrase": [(f'"made in {c}"', {}) for c in COUNTRIES]
        + [(f'"{w} {v}"', {}) for w, v in itertools.pairwise(common[:13])],
        "serial": [(s, {}) for s in rng.sample(corpus.parts, n // 2) + rng.sample(corpus.serials, n // 2)],
        "prefix": [(p[:6] + "*", {}) for p in rng.sample(corpus.parts, n // 2)]
        + [(w[:3] + "*", {}) for w in rng.sample(common, n // 2)],
        "since": [(w, {"since_ms": newest - DAY_MS}) for w in common[: n // 2] + rare[: n // 2]],
        "codes only": [
            (t.split("/")[-1].split()[0], {"kinds": ("code",)}) for t in rng.sample(corpus.code_texts, n // 2)
        ]
        + [("https", {"kinds": ("code",)}), ("asset", {"kinds": ("code",)})] * (n // 4),
    }


def measure_search(store: Store, qs: dict[str, list[tuple[str, dict]]], reps: int) -> dict:
    """Median and p95 ms per query kind (limit 20), after one untimed pass; hits counted."""
    out = {}
    everything: list[float] = []
    for kind, items in qs.items():
        for q, kw in items:  # warm-up
            search(store, q, limit=20, **kw)
        times, hits = [], []
        for _ in range(reps):
            for q, kw in items:
                t = time.perf_counter()
                found = search(store, q, limit=20, **kw)
                times.append((time.perf_counter() - t) * 1000)
                hits.append(len(found))
        everything += times
        out[kind] = {
            "queries": len(items),
            "ms_median": round(statistics.median(times), 2),
            "ms_p95": round(pct(times, 0.95), 2),
            "ms_max": round(max(times), 2),
            "hits_median": statistics.median(hits),
            "examples": [q for q, _ in items[:3]],
        }
    out["all"] = {
        "ms_median": round(statistics.median(everything), 2),
        "ms_p95": round(pct(everything, 0.95), 2),
    }
    return out


def measure_upkeep(store: Store, reps: int = 3) -> dict:
    """What the daemon runs besides saving: a retention pass (every 200 saves), status(), pending()."""
    out = {}
    for name, call in (
        ("enforce_retention_ms", store.enforce_retention),
        ("status_ms", store.status),
        ("pending_100_ms", lambda: store.pending(100)),
    ):
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            call()
            times.append((time.perf_counter() - t) * 1000)
        out[name] = round(statistics.median(times), 1)
    return out


def size_report(store: Store) -> dict:
    """Bytes per stored line for the checkpointed file, and the share of each table (dbstat)."""
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (lines,) = store.conn.execute("SELECT count(*) FROM lines").fetchone()
    file_bytes = store.path.stat().st_size
    by_table = dict(
        store.conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    )
    groups: dict[str, int] = {}
    for name, size in by_table.items():
        group = (
            "lines_fts"
            if name.startswith("lines_fts")
            else "codes_fts"
            if name.startswith("codes_fts")
            else name
        )
        group = {
            "lines_scan": "lines",
            "codes_scan": "codes",
            "scans_time": "scans",
            "scans_source_time": "scans",
        }.get(group, group)
        if group.startswith("sqlite_autoindex_outbox") or group == "outbox_unsent":
            group = "outbox"
        groups[group] = groups.get(group, 0) + size
    return {
        "lines": lines,
        "file_bytes": file_bytes,
        "bytes_per_line": round(file_bytes / lines, 1),
        "bytes_per_line_by_table": {
            k: round(v / lines, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k lines, fewer saves (a smoke check)")
    parser.add_argument(
        "--dir", type=Path, default=REPO / "bench-out" / "store-bench", help="where the stores go"
    )
    parser.add_argument("--json", type=Path, default=REPO / "bench-out" / "store_bench.json")
    parser.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    args = parser.parse_args()
    sizes = [10_000] if args.quick else [100_000, 1_000_000]
    saves = 300 if args.quick else 3000
    reps = 3 if args.quick else 5
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    rng = random.Random(20261122)
    corpus = Corpus(random.Random(1))
    now = int(time.time() * 1000)
    report: dict = {
        "sqlite": __import__("sqlite3").sqlite_version,
        "cpus": os.cpu_count(),
        "fsync_floor_ms": round(fsync_floor_ms(args.dir), 3),
        "build": "save_scan in a loop with PRAGMA synchronous = OFF on the builder's connection",
        "loadavg_start": os.getloadavg(),
    }
    print(f"fsync floor on {args.dir}: {report['fsync_floor_ms']} ms (write 4 KiB + fsync, median)")

    # (a) durable saves into an empty store
    with Store(args.dir / "saves", StoreSettings(device="bench")) as store:
        report["saves_empty"] = measure_saves(store, Corpus(random.Random(2)), saves, now)
    print(f"(a) empty store: {report['saves_empty']}")

    # (b) + (c): one store grown to each size
    report["sizes"] = {}
    big = Store(args.dir / "big", StoreSettings(device="bench"))
    built_scans = 0
    span_start = now - 60 * DAY_MS
    try:
        for target in sizes:
            scans = target // LINES_PER_SCAN - built_scans
            # capture times: the whole store covers 60 days up to now, oldest first
            t0 = span_start + int((now - span_start) * built_scans / (sizes[-1] // LINES_PER_SCAN))
            t1 = span_start + int((now - span_start) * (built_scans + scans) / (sizes[-1] // LINES_PER_SCAN))
            if target == sizes[-1]:
                t1 = now
            secs = build(big, corpus, scans, built_scans, t0, t1)
            built_scans += scans
            print(f"built {target:,} lines in {secs:.1f} s ({scans / secs:.0f} scans/s, fsync off)")
            size = size_report(big)
            with Store(args.dir / "big", StoreSettings(device="bench"), readonly=True) as reader:
                res = measure_search(reader, queries(corpus, rng, t1), reps)
            report["sizes"][str(target)] = {"build_s": round(secs, 1), "size": size, "search": res}
            upkeep = measure_upkeep(big)
            report["sizes"][str(target)]["upkeep"] = upkeep
            print(
                f"  {target:,} lines: {size['bytes_per_line']} bytes/line;"
                f" search p95 {res['all']['ms_p95']} ms"
            )
            print(f"  upkeep: {upkeep}")
        report["saves_big"] = measure_saves(big, Corpus(random.Random(3)), min(saves, 1000), now + 1)
        report["saves_big"]["lines_before"] = sizes[-1]
        print(f"(a) at {sizes[-1]:,} lines: {report['saves_big']}")
    finally:
        big.close()
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)

    report["loadavg_end"] = os.getloadavg()  # other work on the machine skews the save rate first
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print_tables(report)
    print(f"\nwrote {args.json}")
    return 0


def print_tables(report: dict) -> None:
    """The results as markdown."""
    print(
        "\n| durable save_scan: 20 lines, 1 code, 2 outbox rows | scans/s | lines/s | ms median | ms p95"
        " | CPU ms |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, row in (
        ("empty store", report["saves_empty"]),
        (f"store with {report['saves_big']['lines_before']:,} lines", report["saves_big"]),
    ):
        mark = "" if row["scans_per_s"] >= TARGET_SAVES_PER_S else " (below 500)"
        print(
            f"| {label} | {row['scans_per_s']}{mark} | {row['lines_per_s']}"
            f" | {row['ms_median']} | {row['ms_p95']} | {row['cpu_ms_per_scan']} |"
        )
    load = f"{report['loadavg_start'][0]:.2f} / {report['loadavg_end'][0]:.2f} on {report['cpus']} CPUs"
    print(
        f"\nfsync floor (write 4 KiB + fsync): {report['fsync_floor_ms']} ms;"
        f" load average start / end: {load}\n"
    )
    sizes = list(report["sizes"])
    head = " | ".join(f"{int(n):,} lines: median / p95 ms" for n in sizes)
    print(f"| search, limit 20 | {head} | examples |")
    print("|---|" + "---:|" * len(sizes) + "---|")
    for kind in (*QUERY_KINDS, "all"):
        found = [report["sizes"][n]["search"][kind] for n in sizes]
        cells = " | ".join(f"{f['ms_median']} / {f['ms_p95']}" for f in found)
        examples = ", ".join(f"`{q}`" for q in found[-1].get("examples", []))
        print(f"| {kind} | {cells} | {examples} |")
    last = report["sizes"][sizes[-1]]["search"]["all"]["ms_p95"]
    verdict = "met" if last < TARGET_SEARCH_P95_MS else "MISSED"
    print(
        f"\nsearch p95 at {int(sizes[-1]):,} lines: {last} ms"
        f" (target < {TARGET_SEARCH_P95_MS:g} ms: {verdict})\n"
    )
    print(
        "| stored lines | file bytes | bytes / line | of which (bytes / line)"
        " | retention pass ms | status() ms |"
    )
    print("|---:|---:|---:|---|---:|---:|")
    for n in sizes:
        z, u = report["sizes"][n]["size"], report["sizes"][n]["upkeep"]
        parts = ", ".join(f"{k} {v}" for k, v in list(z["bytes_per_line_by_table"].items())[:6])
        print(
            f"| {z['lines']:,} | {z['file_bytes']:,} | {z['bytes_per_line']} | {parts} "
            f"| {u['enforce_retention_ms']} | {u['status_ms']} |"
        )


if __name__ == "__main__":
    sys.exit(main())
