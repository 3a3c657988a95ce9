"""Benchmark signed generic webhooks end to end and print the figures the target is checked against.

Target: on this 2-core machine `trustdesk serve` with its defaults (gunicorn, the
default worker count, SQLite in a data dir, the shipped model, its job consumer)
handles >= 300 signed `POST /webhooks/generic` deliveries/s on loopback with
p99 <= 50 ms. What is measured, in one run:

1. `trustdesk serve` started here in a temporary TRUSTDESK_DATA_DIR with a
   webhook secret, loaded by wrk at each concurrency: throughput and latency
   p50/p90/p99, the median (and min-max) of repeats after a warm-up. wrk replays
   deliveries signed just before each run (unique event, ticket and requester
   ids, bodies from the corpus and sample tickets) through a Lua script, so the
   client costs little CPU; non-2xx answers are counted and must be zero.
2. The same load, interleaved run by run, against a bare Flask endpoint that
   only verifies the signature and parses the JSON (bench/bare_webhook_app.py),
   under gunicorn with the same worker count and options: the ratio
   trustdesk/bare says how much of the floor the pipeline leaves.
3. The pipeline in-process (create_app and Flask's test client) over a few
   hundred deliveries: latency without a profiler, then the share of time by
   phase under cProfile and the top functions.

The machine is shared and noisy: read medians and the spread, and the ratio.
Needs wrk (`apt-get install -y wrk`). Run:
python bench/bench_webhooks.py [--seconds N] [--repeats N] [--connections 2,4,8]
(--warmup N and --profile-deliveries N too; results also go to bench/results/webhooks.json)
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations.generic.adapter import sign, signed_headers  # noqa: E402
from models.corpus import load_tickets  # noqa: E402
from plugin.cli import serve  # noqa: E402

TARGET_RATE = 300.0
TARGET_P99_MS = 50.0
POOL_PER_SECOND = 1000  # signed deliveries prepared per second of a run; trustdesk must never exhaust them
READY_TIMEOUT_S = 90
STOP_TIMEOUT_S = 40  # gunicorn's graceful timeout is 30 s
SAMPLES = ROOT / "models" / "samples" / "tickets.jsonl"
TICKET_FIELDS = ("source", "subject", "status", "tags", "created_at", "updated_at", "requester", "assignee",
                 "messages", "history")
PATH = "/webhooks/generic"

# One thread: each request takes the next pre-signed delivery, so no event is sent twice
# unless the pool runs out (counted as `repeated`: a repeat would hit trustdesk's dedup path).
WRK_SCRIPT = r"""
local pool, threads = {}, {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  for line in function() return file:read("*l") end do
    local timestamp, signature, length = line:match("^(%S+) (%S+) (%d+)$")
    local headers = {["Content-Type"] = "application/json", ["X-Trustdesk-Timestamp"] = timestamp,
                     ["X-Trustdesk-Signature"] = signature}
    pool[#pool + 1] = wrk.format("POST", nil, headers, file:read(tonumber(length)))
  end
  file:close()
  sent, repeated, non2xx = 0, 0, 0
end

function request()
  sent = sent + 1
  if sent > #pool then repeated = repeated + 1 end
  return pool[(sent - 1) % #pool + 1]
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local repeated_total, non2xx_total = 0, 0
  for _, thread in ipairs(threads) do
    repeated_total = repeated_total + thread:get("repeated")
    non2xx_total = non2xx_total + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "non2xx": %d, ' ..
    '"repeated": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    non2xx_total, repeated_total, e.connect + e.read + e.write + e.timeout))
end
"""


# --- deliveries ---------------------------------------------------------------------------

def ticket_templates() -> list[dict]:
    """Realistic tickets: the labelled corpus conversations and the shipped samples, schema fields only."""
    raw = load_tickets() + [json.loads(line) for line in SAMPLES.read_text().splitlines() if line.strip()]
    return [{k: t[k] for k in TICKET_FIELDS if k in t} for t in raw]


def delivery_body(template: dict, key: str) -> bytes:
    """One delivery of a template with its own event, ticket and requester ids."""
    requester = {"name": "Bench Customer", "email": f"{key}@example.com", **template.get("requester", {}),
                 "id": f"cust-{key}"}
    ticket = {**template, "id": f"ticket-{key}", "requester": requester}
    return json.dumps({"event_id": f"evt-{key}", "ticket": ticket}).encode("utf-8")


def write_pool(path: Path, templates: list[dict], secret: str, count: int, tag: str) -> Path:
    """Sign `count` deliveries now and write them as `<timestamp> <signature> <length>\\n<body>` records."""
    timestamp = str(int(time.time()))
    with path.open("wb") as out:
        for n in range(count):
            body = delivery_body(templates[n % len(templates)], f"{tag}-{n}")
            out.write(f"{timestamp} {sign(secret, timestamp, body)} {len(body)}\n".encode("ascii") + body)
    return path


# --- servers ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def default_workers() -> int:
    """`trustdesk serve`'s default --workers, read from the command itself."""
    return next(param.default for param in serve.params if param.name == "workers")


def trustdesk_command(port: int) -> list[str]:
    return [sys.executable, "-m", "plugin.cli", "serve", "--bind", f"127.0.0.1:{port}"]


def bare_command(port: int, workers: int) -> list[str]:
    """gunicorn as plugin/server.py configures it (sync workers, timeout 60, no access log).

    Its control socket is off so it cannot take over the one trustdesk's gunicorn listens on.
    """
    return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--timeout", "60", "--no-control-socket", "--chdir", str(ROOT), "bench.bare_webhook_app:app"]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a server in its own session (so its whole process group can be stopped), logging to a file."""
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group, wait for the leader (bounded), then SIGKILL any straggler."""
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_S)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def wait_ready(base_url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll /readyz until it answers 200; fail with the server's log if it dies or times out."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(OSError):
            with opener.open(base_url + "/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"{base_url} did not become ready (exit status {process.poll()}); log tail:\n{log_tail(log)}")


def log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


# --- load ---------------------------------------------------------------------------------

def run_wrk(url: str, connections: int, seconds: int, pool: Path, script: Path) -> dict:
    """One wrk run; rate in requests/s, latencies in ms, and the error counts."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url,
               "--", str(pool)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH "))
    return {"rate": raw["requests"] / (raw["duration_us"] / 1e6), "requests": raw["requests"],
            "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "non2xx": raw["non2xx"], "repeated": raw["repeated"], "socket_errors": raw["socket_errors"]}


def load_runs(urls: dict[str, str], templates: list[dict], secret: str, args: argparse.Namespace,
              work: Path) -> dict[str, dict[int, list[dict]]]:
    """Warm each server up, then every (connections, repeat) run on each server in turn."""
    script = work / "deliveries.lua"
    script.write_text(WRK_SCRIPT)
    pool_size = max(args.seconds, args.warmup) * POOL_PER_SECOND

    def run(name: str, connections: int, seconds: int, tag: str) -> dict:
        pool = write_pool(work / "pool.bin", templates, secret, pool_size, tag)
        return run_wrk(urls[name], connections, seconds, pool, script)

    for name in urls:
        warm = run(name, max(args.connections), args.warmup, f"{name}-warm")
        if warm["non2xx"] or warm["socket_errors"]:
            raise RuntimeError(f"{name} warm-up failed: {warm}; log tail:\n{log_tail(work / f'{name}.log')}")
        print(f"warm-up {name}: {warm['rate']:,.0f} req/s", flush=True)
    results: dict[str, dict[int, list[dict]]] = {name: {c: [] for c in args.connections} for name in urls}
    for connections in args.connections:
        for repeat in range(args.repeats):
            for name in urls:
                figures = run(name, connections, args.seconds, f"{name}-c{connections}-r{repeat}")
                results[name][connections].append(figures)
                print(f"  {name:<9} c={connections:<3} run {repeat + 1}/{args.repeats}: {figures['rate']:8,.1f} req/s"
                      f"  p99 {figures['p99_ms']:7.1f} ms  non-2xx {figures['non2xx']}", flush=True)
    return results


def summarise(runs: list[dict]) -> dict:
    """Medians over repeats, the min-max of rate and p99, and error totals."""
    rates, p99s = [r["rate"] for r in runs], [r["p99_ms"] for r in runs]
    return {"rate": statistics.median(rates), "rate_min": min(rates), "rate_max": max(rates),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs), "p90_ms": statistics.median(r["p90_ms"] for r in runs),
            "p99_ms": statistics.median(p99s), "p99_min": min(p99s), "p99_max": max(p99s),
            "non2xx": sum(r["non2xx"] for r in runs), "socket_errors": sum(r["socket_errors"] for r in runs),
            "repeated": sum(r["repeated"] for r in runs), "runs": runs}


def print_load(summary: dict[str, dict[int, dict]], workers: int) -> None:
    print(f"\nsigned POST {PATH}, gunicorn with {workers} workers, medians of repeats (min-max)")
    print(f"{'server':<10}{'conns':>5}{'req/s':>10}{'(min-max)':>19}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
          f"{'(min-max)':>17}{'non-2xx':>9}{'sock err':>9}{'repeated':>9}")
    for name, by_connections in summary.items():
        for connections, s in by_connections.items():
            rate_spread = "({:,.1f}-{:,.1f})".format(s["rate_min"], s["rate_max"])
            p99_spread = "({:.1f}-{:.1f})".format(s["p99_min"], s["p99_max"])
            repeated = s["repeated"] if name == "trustdesk" else "-"  # the bare endpoint keeps no state
            print(f"{name:<10}{connections:>5}{s['rate']:>10,.1f}{rate_spread:>19}{s['p50_ms']:>9.1f}"
                  f"{s['p90_ms']:>9.1f}{s['p99_ms']:>9.1f}{p99_spread:>17}{s['non2xx']:>9}{s['socket_errors']:>9}"
                  f"{repeated:>9}")
    for connections, s in summary["trustdesk"].items():
        ratio = s["rate"] / summary["bare"][connections]["rate"]
        met = s["rate"] >= TARGET_RATE and s["p99_ms"] <= TARGET_P99_MS
        print(f"c={connections}: throughput trustdesk/bare {ratio:.3f}; target (>= {TARGET_RATE:.0f} req/s, "
              f"p99 <= {TARGET_P99_MS:.0f} ms) {'met' if met else 'not met'}")


def valid(summary: dict[str, dict[int, dict]]) -> bool:
    """No non-2xx, no socket errors, and no trustdesk delivery sent twice."""
    return all(s["non2xx"] == 0 and s["socket_errors"] == 0 and (name == "bare" or s["repeated"] == 0)
               for name, by_connections in summary.items() for s in by_connections.values())


# --- in-process profile -------------------------------------------------------------------

_PROCESS = ("plugin/pipeline.py", "_process")
_HANDLE = ("plugin/pipeline.py", "handle")
_ANALYSE = ("plugin/pipeline.py", "analyse")  # storing, history, classification and guidance of one ticket
# Each phase: (callee, caller) edges whose cumulative time it sums; caller None means from anywhere.
PHASES = {
    "signature check": [(("integrations/generic/adapter.py", "verify"), _HANDLE)],
    "JSON + schema parsing": [(("integrations/generic/adapter.py", "parse"), _HANDLE)],
    "dedup lookup": [(("plugin/pipeline.py", "_seen"), _PROCESS)],
    "storing (ticket, customer, messages, analysis, event)": [
        *((("plugin/ticket_rows.py", name), _ANALYSE) for name in ("find_ticket", "find_customer", "stored_messages",
                                                                   "store_ticket")),
        (("plugin/pipeline.py", "_before"), _ANALYSE),
        *(((module, name), caller) for caller in (_ANALYSE, _PROCESS)  # the analysis, guidance and event INSERTs
          for module, name in (("sqlalchemy/engine/base.py", "execute"), ("sqlalchemy/orm/session.py", "connection")))],
    "classification (Analyzer.analyze)": [(("models/predict.py", "analyze"), _ANALYSE)],
    "guidance (guide)": [(("guidance/engine.py", "guide"), _ANALYSE)],
    "ledger (history + record)": [(("plugin/ledger.py", name), caller) for caller in (_PROCESS, _ANALYSE)
                                  for name in ("history_for", "merged_history", "events_for", "record")],
    "commit": [(("sqlalchemy/orm/session.py", "commit"), _PROCESS)],
    "JSON response (jsonify)": [(("flask/json/__init__.py", "jsonify"), ("plugin/webhooks.py", "receive"))],
    "access log + metrics hooks": [((module, name), None) for module in ("plugin/logs.py", "plugin/metrics.py")
                                   for name in ("_start", "_finish")],
}
TOTAL = ("flask/app.py", "wsgi_app")
CLIENT_SIDE = ("bench/", "werkzeug/test.py", "flask/testing.py")  # the test client's frames, left out of the tops


def _matches(key: tuple, where: tuple[str, str]) -> bool:
    filename, _, function = key
    return function == where[1] and filename.replace(os.sep, "/").endswith("/" + where[0])


def edge_seconds(stats: dict, callee: tuple[str, str], caller: tuple[str, str] | None) -> float:
    """Cumulative seconds spent in `callee` when called from `caller` (anywhere when None)."""
    total = 0.0
    for key, (_, _, _, cumulative, callers) in stats.items():
        if not _matches(key, callee):
            continue
        total += cumulative if caller is None else sum(t[3] for k, t in callers.items() if _matches(k, caller))
    return total


def profile_pipeline(templates: list[dict], count: int) -> dict:
    """Post `count` deliveries through create_app's test client untimed, timed, then under cProfile.

    The app's JSON log lines are formatted as in `serve`, then written to /dev/null.
    """
    from plugin.app import create_app

    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull), \
            mock.patch.dict(os.environ, {"PROMETHEUS_MULTIPROC_DIR": str(Path(tmp, "metrics"))}):  # as `serve` does
        Path(tmp, "metrics").mkdir()
        app = create_app({"data_dir": tmp, "generic_webhook_secret": secret})
        client = app.test_client()

        def post(key: str, n: int) -> int:
            body = delivery_body(templates[n % len(templates)], key)
            return client.post(PATH, data=body, headers=signed_headers(secret, body)).status_code

        statuses = [post(f"warm-{n}", n) for n in range(50)]
        latencies = []
        for n in range(count):
            started = time.perf_counter()
            statuses.append(post(f"plain-{n}", n))
            latencies.append((time.perf_counter() - started) * 1000)
        profiler = cProfile.Profile()
        profiler.enable()
        statuses += [post(f"profiled-{n}", n) for n in range(count)]
        profiler.disable()
    latencies.sort()
    stats = pstats.Stats(profiler).stats
    return {"deliveries": count, "non200": sum(status != 200 for status in statuses),
            "mean_ms": statistics.mean(latencies), "p50_ms": latencies[len(latencies) // 2],
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "profiled_total_s": edge_seconds(stats, TOTAL, None),
            "phases_s": {phase: sum(edge_seconds(stats, *edge) for edge in edges) for phase, edges in PHASES.items()},
            "top_cumulative": top_functions(stats, 3, 15), "top_own": top_functions(stats, 2, 15)}


def short_name(key: tuple) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    path = filename.replace(os.sep, "/")
    for anchor in ("/site-packages/", str(ROOT).replace(os.sep, "/") + "/", "/lib/python"):
        if anchor in path:
            path = path.split(anchor, 1)[1]
            break
    return f"{path}:{line}({function})"


def top_functions(stats: dict, column: int, n: int) -> list[tuple[str, int, float, float]]:
    """(name, calls, own s, cumulative s) of the n functions highest in column (2: own, 3: cumulative)."""
    named = [(short_name(key), value) for key, value in stats.items()]
    ranked = sorted(((name, value) for name, value in named if not name.startswith(CLIENT_SIDE)),
                    key=lambda item: item[1][column], reverse=True)[:n]
    return [(name, value[1], value[2], value[3]) for name, value in ranked]


def print_profile(profile: dict, workers: int) -> None:
    count, total = profile["deliveries"], profile["profiled_total_s"]
    print(f"\nin-process pipeline (create_app + test client, SQLite), {count} deliveries, non-200: {profile['non200']}")
    print(f"without profiler: mean {profile['mean_ms']:.2f} ms, p50 {profile['p50_ms']:.2f} ms, p99 "
          f"{profile['p99_ms']:.2f} ms; {workers} busy workers would top out near "
          f"{workers * 1000 / profile['mean_ms']:,.0f} req/s")
    print(f"under cProfile (which inflates pure-Python code): {total * 1000 / count:.2f} ms per delivery in "
          f"Flask's wsgi_app; share by phase:")
    phases = dict(profile["phases_s"])
    phases["other (Flask, request/response, session open/close)"] = total - sum(phases.values())
    for phase, seconds in sorted(phases.items(), key=lambda item: item[1], reverse=True):
        print(f"  {phase:<52}{seconds * 1000 / count:>8.2f} ms{100 * seconds / total:>7.1f} %")
    for title, rows in (("cumulative", profile["top_cumulative"]), ("own (tottime)", profile["top_own"])):
        print(f"top {len(rows)} functions by {title} time (ms per delivery: own, cumulative; calls):")
        for name, calls, own, cumulative in rows:
            print(f"  {own * 1000 / count:>8.2f} {cumulative * 1000 / count:>8.2f} {calls:>9}  {name}")


# --- main ---------------------------------------------------------------------------------

def drop_local_settings() -> None:
    """Unset TRUSTDESK_* settings here, so a local config never reaches the servers or the profile."""
    for name in [name for name in os.environ if name.startswith("TRUSTDESK_") or name == "PROMETHEUS_MULTIPROC_DIR"]:
        del os.environ[name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Length of each measured run.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=lambda s: [int(c) for c in s.split(",")], default=[2, 4, 8])
    parser.add_argument("--warmup", type=int, default=5, help="Seconds of load on each server before measuring.")
    parser.add_argument("--profile-deliveries", type=int, default=300)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on SIGTERM too
    drop_local_settings()
    templates = ticket_templates()
    workers = default_workers()
    secret = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp, contextlib.ExitStack() as servers:
        work = Path(tmp)
        env = {**os.environ, "TRUSTDESK_DATA_DIR": str(work / "data"), "TRUSTDESK_GENERIC_WEBHOOK_SECRET": secret}
        (work / "data").mkdir()
        ports = {"trustdesk": free_port(), "bare": free_port()}
        commands = {"trustdesk": trustdesk_command(ports["trustdesk"]), "bare": bare_command(ports["bare"], workers)}
        for name, command in commands.items():
            process = start(command, env, work / f"{name}.log")
            servers.callback(stop, process)
            wait_ready(f"http://127.0.0.1:{ports[name]}", process, work / f"{name}.log")
        urls = {name: f"http://127.0.0.1:{port}{PATH}" for name, port in ports.items()}
        results = load_runs(urls, templates, secret, args, work)
    summary = {name: {c: summarise(runs) for c, runs in by_c.items()} for name, by_c in results.items()}
    print_load(summary, workers)
    profile = profile_pipeline(templates, args.profile_deliveries)
    print_profile(profile, workers)
    ok = valid(summary) and profile["non200"] == 0
    print(f"\nvalid run (no non-2xx, no socket errors, no trustdesk delivery repeated): {'yes' if ok else 'NO'}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "webhooks.json").write_text(json.dumps({"workers": workers, "load": summary, "profile": profile},
                                                  indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
