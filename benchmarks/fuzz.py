"""The fuzz suite for N minutes: the generators of tests/test_fuzz.py (mutated images and PDFs, configs,
search queries), drawn from a seeded random generator instead of hypothesis, each input read by the
worker child under its address-space and time limits. Prints inputs tried, outcomes, crashes, hangs
and the peak RSS per input kind; inputs that broke a rule are kept under bench-out/fuzz-failures/.

    .venv/bin/python benchmarks/fuzz.py --minutes 10 [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.checks import check_config, check_image, check_search
from tests.fuzz.client import FuzzWorker, WorkerFailed
from tests.fuzz.inputs import FORMATS, known_keys, mutate, random_mutation, toml_document
from tests.fuzz.strategies import SQL, SYNTAX

FAILURES = Path("bench-out/fuzz-failures")
QUERY_BITS = [*SYNTAX, *SQL, "\x00"]  # the hypothesis strategies' pieces, and a NUL


def random_config(rng: random.Random) -> str:
    """A table like tests/fuzz/strategies.config_tables draws: known and unknown names, odd values."""
    keys = known_keys()
    values = [
        True,
        0,
        -1,
        2**70,
        1e308,
        float("nan"),
        float("inf"),
        "",
        "x" * 5000,
        "inbox",
        [1, "a"],
        {"a": 1},
    ]
    table: dict = {}
    for _ in range(rng.randint(0, 6)):
        section = rng.choice([*keys, "".join(rng.choices("abcxyz_", k=5))])
        names = [*keys.get(section, ["kind"]), "bogus_key"]
        table[section] = {rng.choice(names): rng.choice(values) for _ in range(rng.randint(0, 6))}
    return toml_document(table)


def random_query(rng: random.Random) -> str:
    words = [*QUERY_BITS, "result", "4471-AX2", "TAG-3*", "a" * rng.randint(1, 20000)]
    return " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument(
        "--max-pages",
        type=int,
        default=8,
        help="pages of the many-page inputs (blank 1500 px pages take ~1 s each to read)",
    )
    ap.add_argument("--timeout-s", type=float, default=300.0, help="per input: longer is a hang")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    state = work / "state"
    from tests.publish_helpers import make_result, open_store, qr

    with open_store(state) as store:
        for i in range(20):
            store.save_scan(make_result(i, [qr(f"TAG-{i}")] if i % 3 == 0 else None), captured_ms=i)
    worker = FuzzWorker().start()
    tried: Counter[str] = Counter()
    outcomes: Counter[tuple[str, str]] = Counter()
    peak: dict[str, float] = defaultdict(float)
    slowest: dict[str, float] = defaultdict(float)
    broken: list[str] = []
    end = time.monotonic() + args.minutes * 60
    while time.monotonic() < end:
        kind = rng.choice([*FORMATS, "config", "search"])
        path = work / f"input.{kind}"
        if kind in FORMATS:
            m = random_mutation(rng)
            path.write_bytes(mutate(kind, m, args.max_pages))
            what, request = f"{kind} {m.describe()}", {"kind": "image", "path": str(path)}
        elif kind == "config":
            path.write_text(random_config(rng), encoding="utf-8", errors="surrogatepass")
            what, request = "config", {"kind": "config", "path": str(path)}
        else:
            query = random_query(rng)
            what, request = f"query {query[:60]!r}", {"kind": "search", "state": str(state), "query": query}
        tried[kind] += 1
        try:
            reply = worker.call(request, timeout_s=args.timeout_s)
            outcomes[(kind, reply.outcome)] += 1
            peak[kind] = max(peak[kind], reply.peak_mb)
            slowest[kind] = max(slowest[kind], reply.ms)
            if kind in FORMATS:
                check_image(reply, path, what)
            elif kind == "config":
                check_config(reply, path)
            else:
                check_search(reply, request["query"])
        except (AssertionError, WorkerFailed) as exc:
            outcomes[(kind, "broke a rule")] += 1
            FAILURES.mkdir(parents=True, exist_ok=True)
            kept = FAILURES / f"{len(broken):03d}-{path.name}"
            if path.exists():
                shutil.copy(path, kept)
            broken.append(f"{what}: {str(exc)[:300]} (input kept as {kept})")
    worker.close()
    shutil.rmtree(work, ignore_errors=True)
    print(f"seed {args.seed}, {args.minutes:g} min, worker steady RSS {worker.steady_rss_mb:.0f} MB")
    print(
        f"{'kind':8} {'tried':>6} {'read':>6} {'refused':>8} {'broke':>6} "
        f"{'peak RSS MB':>12} {'slowest s':>10}"
    )
    for kind in sorted(tried):
        print(
            f"{kind:8} {tried[kind]:6d} {outcomes[(kind, 'read')]:6d} {outcomes[(kind, 'refused')]:8d} "
            f"{outcomes[(kind, 'broke a rule')]:6d} {peak[kind]:12.0f} {slowest[kind] / 1000:10.1f}"
        )
    print(
        f"inputs {sum(tried.values())}, crashes/hangs (worker restarts) {worker.restarts}, "
        f"rule breaks {len(broken)}"
    )
    for line in broken:
        print("  " + line)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
