"""Login throughput and latency, against what argon2id alone allows on this machine.

`bandstand up` (embedded), one registered user per connection, then wrk POSTing `/api/v1/login/`
with their JSON credentials in turn. The default load, 8 connections, stays within what the
service takes on by design: it hashes at most `password_hashing_max_concurrent` (8) passwords at
once and refuses a login past that with 503, and it lets one address try one account at most 5
times at once; a refused login is counted apart, never as a login. Every login verifies the
password with argon2id (m=19 MiB, t=2, p=1), stores a refresh token, updates the user and writes
a `user.logged_in` event to the outbox, in one transaction. The baseline, measured in the same
run before the server starts: argon2id verifications per second in this one process with
`bandstand.identity.passwords.hasher()`, with 1 and with 2 threads.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import _harness as h

USERNAME = "bench-user-{}"
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway account in a temp dir
LOGIN = "/api/v1/login/"

LUA = """\
wrk.method = "POST"
wrk.path = "{path}"
wrk.headers["Content-Type"] = "application/json"
local bodies = {{ {bodies} }}
local sent = 0
request = function()
  sent = sent + 1
  return wrk.format(nil, nil, nil, bodies[sent % #bodies + 1])
end
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3.0, 1.0
    return args


def argon2_throughput(threads: int, duration: float) -> dict[str, Any]:
    """Verifications per second of one stored hash, in `threads` threads of this process."""
    from bandstand.identity.passwords import hasher

    digest = hasher().hash(PASSWORD)
    counts = [0] * threads
    stop = threading.Event()

    def work(index: int) -> None:
        verify = hasher().verify
        while not stop.is_set():
            verify(digest, PASSWORD)
            counts[index] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    busy0, own0 = h.system_busy_seconds(), time.process_time()
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(duration)
    stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    other = max(0.0, h.system_busy_seconds() - busy0 - (time.process_time() - own0))
    total = sum(counts)
    return {
        "other_cores": other / elapsed,
        "threads": threads,
        "verifications": total,
        "seconds": elapsed,
        "verifications_per_s": total / elapsed,
        "ms_per_verification_per_thread": 1000 * elapsed * threads / total,
    }


def argon2_baseline(threads: int, args: argparse.Namespace, attempts: int = 4) -> dict[str, Any]:
    """The least disturbed of up to `attempts` runs (see `_harness.measure_wrk`)."""
    best: dict[str, Any] | None = None
    for _ in range(attempts):
        h.settle(args)
        result = argon2_throughput(threads, args.duration)
        if best is None or result["other_cores"] < best["other_cores"]:
            best = result
        if result["other_cores"] <= 0.12 or args.quiet_wait <= 0:
            break
    assert best is not None
    return best


def argon2_parameters() -> dict[str, Any]:
    from bandstand.identity.passwords import hasher

    current = hasher()
    return {
        "type": current.type.name.lower(),
        "memory_kib": current.memory_cost,
        "memory_mib": current.memory_cost / 1024,
        "time_cost": current.time_cost,
        "parallelism": current.parallelism,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    baseline = [argon2_baseline(threads, args) for threads in (1, 2)]
    for line in baseline:
        print(
            f"  argon2id verify, {line['threads']} thread(s): {line['verifications_per_s']:.1f}/s",
            file=sys.stderr,
            flush=True,
        )
    port = h.free_port()
    with tempfile.TemporaryDirectory(prefix="bench-login-") as scratch:
        tmp = Path(scratch)
        server = h.bandstand_process("up", ["up", "--port", str(port)], tmp / "up")
        with h.started(server, port, "/ready"):
            memory_before = h.memory_of_tree(server.pid)
            accounts = [
                {"username": USERNAME.format(n), "password": PASSWORD}
                for n in range(args.connections)
            ]
            for account in accounts:
                registration = {**account, "email": f"{account['username']}@example.com"}
                status, body = h.http_request(port, "POST", "/api/v1/register/", registration)
                if status != 201:
                    raise RuntimeError(f"register answered {status}: {body[:300]!r}")
                status, body = h.http_request(port, "POST", LOGIN, account)
                if status != 200 or "access_token" not in json.loads(body):
                    raise RuntimeError(f"login answered {status}: {body[:300]!r}")
            bodies = ", ".join(repr(json.dumps(account)) for account in accounts)
            script = tmp / "login.lua"
            script.write_text(LUA.format(path=LOGIN, bodies=bodies))
            url = f"http://127.0.0.1:{port}{LOGIN}"
            runs = {}
            for connections in (args.connections, 1):
                result = h.measure_wrk(
                    url, args, connections=connections, servers=[server], script=script
                )
                runs[connections] = result
                print(
                    f"  login c={connections}: {result.requests_per_s:.1f} req/s "
                    f"p50 {result.p50:.1f} ms p99 {result.p99:.1f} ms "
                    f"cpu {result.cpu_us_per_request() / 1000:.1f} ms/login, "
                    f"other {result.cpu_cores['other']:.2f} cores",
                    file=sys.stderr,
                    flush=True,
                )
            memory = h.memory_of_tree(server.pid)
    return {
        "argon2": baseline,
        "login": runs[args.connections],
        "login_one_connection": runs[1],
        "memory_before_mib": memory_before,
        "memory_after_mib": memory,
    }


def successful_per_s(result: h.WrkResult) -> float:
    """Logins per second, the refused ones (429, 503) left out."""
    if not result.requests:
        return 0.0
    return result.requests_per_s * (result.requests - result.non_2xx_3xx) / result.requests


def report(data: dict[str, Any], args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    login: h.WrkResult = data["login"]
    single: h.WrkResult = data["login_one_connection"]
    one, two = data["argon2"]
    params = data["argon2_parameters"]
    logins_per_s = successful_per_s(login)
    ratios = {
        "logins_per_s": logins_per_s,
        "login_per_argon2_2_threads": logins_per_s / two["verifications_per_s"],
        "login_per_argon2_1_thread": logins_per_s / one["verifications_per_s"],
        "cpu_ms_per_login": login.cpu_us_per_request() / 1000,
        "cpu_ms_per_verification": one["ms_per_verification_per_thread"],
    }

    def row(label: str, result: h.WrkResult) -> list[object]:
        cpu = result.cpu_cores
        return [
            label,
            successful_per_s(result),
            result.p50,
            result.p99,
            f"{result.cpu_us_per_request() / 1000:.1f}",
            f"{cpu['servers']:.2f} / {cpu['wrk']:.2f} / {cpu['other']:.2f}",
        ]

    text = "\n".join(
        [
            f"### Login ({args.connections} connections, 1 wrk thread, {args.duration:g} s)",
            "",
            f"argon2id m={params['memory_mib']:g} MiB, t={params['time_cost']}, "
            f"p={params['parallelism']}: one verification takes "
            f"{one['ms_per_verification_per_thread']:.1f} ms on one thread "
            f"({two['ms_per_verification_per_thread']:.1f} ms with two running at once).",
            "",
            h.markdown_table(
                [
                    "measurement",
                    "per second",
                    "p50 ms",
                    "p99 ms",
                    "CPU ms each",
                    "CPU cores server / wrk / other",
                ],
                [
                    [
                        "argon2id verify, 1 thread",
                        one["verifications_per_s"],
                        "",
                        "",
                        f"{one['ms_per_verification_per_thread']:.1f}",
                        f"- / - / {one['other_cores']:.2f}",
                    ],
                    [
                        "argon2id verify, 2 threads",
                        two["verifications_per_s"],
                        "",
                        "",
                        f"{two['ms_per_verification_per_thread']:.1f}",
                        f"- / - / {two['other_cores']:.2f}",
                    ],
                    row(f"POST {LOGIN}, {args.connections} connections", login),
                    row(f"POST {LOGIN}, 1 connection", single),
                ],
            ),
            "",
            f"logins/s / argon2id verifies/s: {ratios['login_per_argon2_2_threads']:.0%} of "
            f"2 threads, {ratios['login_per_argon2_1_thread']:.0%} of 1 thread; "
            f"{login.requests - login.non_2xx_3xx} logins, {login.non_2xx_3xx} refused "
            f"(not counted as logins), {login.socket_errors} socket errors.",
            "",
            f"Resident memory of the server: {data['memory_before_mib']['rss_mib']:.0f} MiB "
            f"once ready, {data['memory_after_mib']['rss_mib']:.0f} MiB after the runs.",
        ]
    )
    return text, ratios


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    data = run(args)
    data["argon2_parameters"] = argon2_parameters()
    text, ratios = report(data, args)
    print(text)
    path = h.write_results(
        "login",
        {"parameters": vars(args), **data, "ratios": ratios, "markdown": text},
    )
    print(f"\nresults: {path.relative_to(h.REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
