"""What a benchmark writes: its JSON result with the machine it ran on, and Markdown tables."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import platform
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _wrk import WrkResult

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
PACKAGES = ("uvicorn", "fastapi", "starlette", "aiohttp", "uvloop", "httptools", "argon2-cffi")


def _command_output(argv: Sequence[str]) -> str:
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (completed.stdout + completed.stderr).strip()


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": _command_output(["nproc"]),
        "cpu_model": model,
        "memory": _command_output(["free", "-h"]),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
        "wrk": _command_output(["wrk", "-v"]).splitlines()[0] if shutil.which("wrk") else None,
        "nginx": _command_output(["nginx", "-v"]) if shutil.which("nginx") else None,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "revision": _command_output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "uncommitted_source_changes": bool(
            _command_output(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"])
        ),
    }


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        return str(value)

    text_rows = [[cell(value) for value in row] for row in rows]
    widths = [
        max(len(str(header)), *(len(row[i]) for row in text_rows))
        for i, header in enumerate(headers)
    ]
    lines = [
        "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in text_rows
    ]
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def to_jsonable(value: Any) -> Any:
    if isinstance(value, WrkResult):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **data,
    }
    path.write_text(json.dumps(to_jsonable(document), indent=2) + "\n")
    return path
