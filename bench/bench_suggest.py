"""Benchmark `suggest`: per-ticket latency of guidance (target p99 <= 20 ms on this machine).

Each ticket is analysed and guided on its own, as the service does per webhook;
the analysis alone is timed in the same run as the baseline, so the figure that
matters is what guidance adds. Medians of repeats; run:
python bench/bench_suggest.py [--tickets N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from guidance import partners, playbooks  # noqa: E402
from guidance.engine import Context, guide  # noqa: E402
from models.corpus import load_tickets  # noqa: E402
from models.predict import Analyzer  # noqa: E402
from models.ticket import load_ticket  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=320)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    analyzer = Analyzer.load()
    ctx = Context(analyzer, playbooks.load_dir(), partners.configured())
    tickets = [load_ticket({k: v for k, v in t.items() if k != "labels"}) for t in load_tickets()[:args.tickets]]
    for t in tickets[:20]:
        guide(t, analyzer.analyze(t), ctx)  # warm caches
    runs = []
    for _ in range(args.repeats):
        analyse, total = [], []
        for t in tickets:
            start = time.perf_counter()
            analysis = analyzer.analyze(t)
            middle = time.perf_counter()
            guide(t, analysis, ctx)
            end = time.perf_counter()
            analyse.append((middle - start) * 1000)
            total.append((end - start) * 1000)
        runs.append((statistics.median(analyse), percentile(analyse, 0.99), statistics.median(total), percentile(total, 0.99)))
    figures = {
        "tickets": len(tickets),
        "analyse_p50_ms": statistics.median(r[0] for r in runs),
        "analyse_p99_ms": statistics.median(r[1] for r in runs),
        "suggest_p50_ms": statistics.median(r[2] for r in runs),
        "suggest_p99_ms": statistics.median(r[3] for r in runs),
    }
    figures["suggest_vs_analyse_p50_ratio"] = figures["suggest_p50_ms"] / figures["analyse_p50_ms"]
    for name, value in figures.items():
        print(f"{name:<30} {value:,.2f}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "suggest.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
