"""Run every benchmark, one after the other (`make bench`).

uv run python bench/run_all.py                  # full runs, as reported in BENCHMARKS.md
uv run python bench/run_all.py --quick          # short runs, to check that everything works
uv run python bench/run_all.py --quiet-wait 0   # do not wait for an idle machine
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import _harness as h

BENCH = Path(__file__).resolve().parent
BENCHMARKS = (
    "gateway_overhead",
    "login",
    "startup_memory",
    "music_catalogue",
    "movie_catalogue",
    "academy_popular",
    "marketplace_search",
    "billing_pipeline",
    "audit_log",
    "every_list",
    "mixed_load",
)


def main(argv: list[str] | None = None) -> int:
    parser = h.common_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    options = [f"--quiet-wait={args.quiet_wait:g}", *(["--quick"] if args.quick else [])]
    failed = []
    for name in BENCHMARKS:
        print(f"\n## {name}\n", flush=True)
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, str(BENCH / f"{name}.py"), *options], check=False
        )
        print(f"\n({name}: {time.monotonic() - started:.0f} s)", flush=True)
        if completed.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    print(f"\nresults in {h.RESULTS.relative_to(h.REPO)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
