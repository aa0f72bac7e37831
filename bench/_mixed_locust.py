"""The mixed load's Locust run, in a process of its own (Locust patches the standard library with
gevent on import; the benchmark that starts the platform does not).

`python bench/_mixed_locust.py CONFIG OUT`: CONFIG (JSON) names the gateway, the users, the phases
and the processes to measure; OUT receives every request (its start, route, time, outcome), the
CPU seconds of each process over the steady window and, for the failover window, when the
replica was killed.

Phases: `idle_s` seconds with no load (each process's CPU at rest); users are spawned, then
`warm_s` seconds (not counted), a steady window of `steady_s`, then a failover window of
`failover_s` in which, `kill_after_s` in, `kill_pid` gets SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment

import _mixed_journeys as journeys
from _procfs import cpu_seconds, descendants, system_busy_seconds

Sample = tuple[float, str, float, int, str]


def _cpu(roots: dict[str, int]) -> dict[str, float]:
    used = {name: cpu_seconds(descendants(pid)) for name, pid in roots.items()}
    used["load generator (Locust)"] = cpu_seconds([os.getpid()])
    used["machine (all processes)"] = system_busy_seconds()
    return used


def _loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def run(config: dict[str, Any]) -> dict[str, Any]:
    journeys.Shared.catalogue = config["catalogue"]
    journeys.Shared.accounts = config["accounts"]
    journeys.Shared.learner_accounts = config["learner_accounts"]
    journeys.Shared.admin = config["admin"]
    journeys.Shared.instrument_queries = config["instrument_queries"]
    samples: list[Sample] = []

    def on_request(
        request_type: str,
        name: str,
        response_time: float,
        exception: BaseException | None,
        start_time: float,
        **_kwargs: Any,
    ) -> None:
        error = "" if exception is None else f"{type(exception).__name__}: {exception}"[:200]
        samples.append(
            (start_time, f"{request_type} {name}", response_time, int(bool(error)), error)
        )

    environment = Environment(user_classes=list(journeys.JOURNEYS), host=config["host"])
    environment.events.request.add_listener(on_request)  # type: ignore[no-untyped-call]
    runner = environment.create_local_runner()
    roots: dict[str, int] = config["measured"]
    # What the processes use with no load (consumers, pollers, the relays), to set apart.
    idle_before = _cpu(roots)
    phases: dict[str, Any] = {"idle_started": time.time()}
    gevent.sleep(config["idle_s"])
    idle_after = _cpu(roots)
    phases["idle_ended"] = phases["spawn_started"] = time.time()
    idle = {name: idle_after[name] - idle_before[name] for name in idle_before}
    runner.start(config["users"], spawn_rate=config["spawn_rate"])
    deadline = time.monotonic() + config["users"] / config["spawn_rate"] + 60
    while runner.user_count < config["users"] and time.monotonic() < deadline:
        gevent.sleep(0.5)
    phases["spawned"] = time.time()
    phases["users"] = runner.user_count
    phases["users_by_journey"] = dict(runner.user_classes_count)
    gevent.sleep(config["warm_s"])

    before = _cpu(roots)
    phases["steady_started"], phases["loadavg_steady_start"] = time.time(), _loadavg()
    gevent.sleep(config["steady_s"])
    after = _cpu(roots)
    phases["steady_ended"], phases["loadavg_steady_end"] = time.time(), _loadavg()
    cpu = {name: after[name] - before[name] for name in before}

    if config["failover_s"] > 0:
        phases["failover_started"] = time.time()
        busy = system_busy_seconds()
        gevent.sleep(config["kill_after_s"])
        phases["killed_at"] = time.time()
        os.kill(config["kill_pid"], signal.SIGKILL)
        gevent.sleep(config["failover_s"] - config["kill_after_s"])
        phases["failover_ended"] = time.time()
        phases["failover_machine_cores"] = (system_busy_seconds() - busy) / (
            phases["failover_ended"] - phases["failover_started"]
        )
        phases["loadavg_failover_end"] = _loadavg()
    runner.quit()
    return {"phases": phases, "steady_cpu_s": cpu, "idle_cpu_s": idle, "samples": samples}


def main() -> int:
    config = json.loads(Path(sys.argv[1]).read_text())
    result = run(config)
    Path(sys.argv[2]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
