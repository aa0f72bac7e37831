"""A served process leaves what start-up built out of the collector's passes, and passes less
often than Python's default."""

from __future__ import annotations

import subprocess
import sys

from bandstand.cli.collector import COLLECTOR_THRESHOLDS


def test_start_up_objects_are_frozen_and_the_collector_passes_less_often() -> None:
    # In a process of its own: freezing and thresholds are the whole interpreter's.
    script = (
        "import gc\n"
        "from bandstand.cli.collector import freeze_startup_objects\n"
        "assert gc.get_freeze_count() == 0\n"
        "freeze_startup_objects()\n"
        "print(gc.get_freeze_count() > 0, *gc.get_threshold())\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    frozen, *thresholds = completed.stdout.split()
    assert frozen == "True"
    assert tuple(int(value) for value in thresholds) == COLLECTOR_THRESHOLDS
    assert COLLECTOR_THRESHOLDS[0] > 700  # Python's default
