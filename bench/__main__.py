"""`python -m bench [--quick] [--only NAME ...] [--db sqlite|postgres|both]`

Starts the fake Sheets API in its own process, runs the scenarios (each sync in a fresh
process), prints the table of figures beside their same-run baselines and writes
bench/results/latest.json. Benchmarks report; they never fail on a missed target.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

from . import changelog, dashboard, largest, throughput, tracker
from .common import Context, Figure, Options, Sizes, machine_description, postgres_problem
from .report import markdown_table, write_json
from .sheet_server import SheetServerProcess

SCENARIOS: dict[str, Callable[[Context], list[Figure]]] = {
    "throughput": throughput.throughput,
    "unchanged": throughput.unchanged,
    "status": dashboard.status_rerun,
    "tabs": dashboard.watched_sync,
    "feedback": dashboard.first_feedback,
    "tracker": tracker.tracker,
    "changelog": changelog.change_log,
    "largest": largest.largest,
    "catalog": largest.catalog,  # after "largest": it reads the catalog that one left
}


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sheets: a few minutes")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SCENARIOS),
        default=[],
        help="run only this scenario (repeatable)",
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args(argv)
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    return Options(quick=args.quick, dbs=dbs, only=tuple(args.only))


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if "postgres" in options.dbs and (problem := postgres_problem()):
        print(f"{problem}: PostgreSQL figures skipped (set BENCH_POSTGRES_URL).", file=sys.stderr)
        options.dbs = tuple(d for d in options.dbs if d != "postgres") or ("sqlite",)
    sizes = Sizes.for_options(options)
    names = [n for n in SCENARIOS if not options.only or n in options.only]
    figures: list[Figure] = []
    started = time.perf_counter()
    with SheetServerProcess() as server:
        ctx = Context(options, sizes, server)
        with ctx.stack:
            for name in names:
                print(f"[bench] {name}...", file=sys.stderr, flush=True)
                scenario_started = time.perf_counter()
                try:
                    new = SCENARIOS[name](ctx)
                except Exception as exc:  # noqa: BLE001 - report it, run the rest
                    traceback.print_exc()
                    new = [Figure(name, "scenario failed", None, "", note=f"{exc}"[:300])]
                figures.extend(new)
                print(markdown_table(new).split("\n", 2)[2], file=sys.stderr)
                print(
                    f"[bench] {name}: {time.perf_counter() - scenario_started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
        server_stats = server.call("stats")
    elapsed = time.perf_counter() - started
    machine = machine_description()
    meta = {
        "machine": machine,
        "quick": options.quick,
        "dbs": list(options.dbs),
        "scenarios": names,
        "seconds": round(elapsed, 1),
        "sheet_server_peak_rss_mb": server_stats.get("peak_rss_mb"),
    }
    path = write_json(figures, meta)
    print(
        f"\nCatalog Sync benchmarks ({'quick' if options.quick else 'full'}), "
        f"{elapsed / 60:.1f} min on {machine['cores']} cores, {machine['cpu']}, "
        f"{machine['memory_gib']} GiB, Python {machine['python']}\n"
    )
    print(markdown_table(figures))
    print(f"\n(JSON: {path.relative_to(path.parents[2])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
