"""Benchmark `suggest`: per-ticket latency of analysis and guidance (target p99 <= 20 ms on this machine).

Each ticket is analysed and guided on its own, as the service does per webhook.
The baseline is measured in the same run, interleaved repeat by repeat: the
straightforward feature computation (models/reference.py, one scipy matrix per
step) with guidance scoring one candidate at a time, which is how both worked
before the fast paths. Also printed: the fixed cost of one Analyzer.score_texts
call (the time for 1 text minus the marginal cost of a text, from 1 and 20
texts) and classifier calls per guide(). Medians of repeats; run:
python bench/bench_suggest.py [--tickets N] [--repeats N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from guidance import engine, partners, playbooks  # noqa: E402
from guidance.engine import Context, guide  # noqa: E402
from models.corpus import load_messages, load_tickets  # noqa: E402
from models.predict import Analyzer  # noqa: E402
from models.reference import ReferenceFeatures  # noqa: E402
from models.ticket import load_ticket  # noqa: E402

ONE_TEXT = "Please contact your bank directly about this, we can't help with refunds here."


class OneAtATime:
    """Guidance scoring as it was: every request straight to the classifier, nothing batched."""

    def __init__(self, analyzer: Analyzer):
        self.analyzer = analyzer
        self.thresholds = analyzer.thresholds

    def prefetch(self, texts) -> None:
        pass

    def score_texts(self, texts, roles):
        return self.analyzer.score_texts(texts, roles)


@contextlib.contextmanager
def variant(analyzer: Analyzer, name: str):
    """Run the block with the shipped fast paths ("fast") or the baseline ("reference")."""
    if name == "fast":
        yield
        return
    fast_features, fast_scores = analyzer._features, engine.Scores
    analyzer._features, engine.Scores = ReferenceFeatures(fast_features), OneAtATime
    try:
        yield
    finally:
        analyzer._features, engine.Scores = fast_features, fast_scores


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def per_ticket(analyzer: Analyzer, ctx: Context, tickets: list[dict]) -> dict[str, float]:
    """Median and p99 of analyze() and of guide() per ticket, in ms, and classifier calls per guide."""
    analyse, advise, calls = [], [], 0
    score_texts = analyzer.score_texts

    def counted(texts, roles):
        nonlocal calls
        calls += 1
        return score_texts(texts, roles)

    for t in tickets:
        start = time.perf_counter()
        analysis = analyzer.analyze(t)
        middle = time.perf_counter()
        analyzer.score_texts = counted
        guide(t, analysis, ctx)
        end = time.perf_counter()
        del analyzer.score_texts
        analyse.append((middle - start) * 1000)
        advise.append((end - middle) * 1000)
    return {"analyse_p50_ms": statistics.median(analyse), "analyse_p99_ms": percentile(analyse, 0.99),
            "guide_p50_ms": statistics.median(advise), "guide_p99_ms": percentile(advise, 0.99),
            "suggest_p50_ms": statistics.median(a + g for a, g in zip(analyse, advise)),
            "suggest_p99_ms": percentile([a + g for a, g in zip(analyse, advise)], 0.99),
            "classifier_calls_per_guide": calls / len(tickets)}


def score_texts_costs(analyzer: Analyzer, texts: list[str], loops: int = 100) -> dict[str, float]:
    """ms for one score_texts call of 1 and of 20 texts, and the fixed part of a call."""
    def timed(batch: list[str]) -> float:
        runs = []
        for _ in range(loops):
            start = time.perf_counter()
            analyzer.score_texts(batch, ["agent"] * len(batch))
            runs.append((time.perf_counter() - start) * 1000)
        return statistics.median(runs)

    one, twenty = timed([ONE_TEXT]), timed(texts[:20])
    return {"score_texts_1_ms": one, "score_texts_20_ms": twenty, "score_texts_fixed_ms": one - (twenty - one) / 19}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=320)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    analyzer = Analyzer.load()
    ctx = Context(analyzer, playbooks.load_dir(), partners.configured())
    tickets = [load_ticket({k: v for k, v in t.items() if k != "labels"}) for t in load_tickets()[:args.tickets]]
    texts = [ONE_TEXT] + [e.text for e in load_messages() if e.role == "agent"][:19]
    runs: dict[str, list[dict[str, float]]] = {"reference": [], "fast": []}
    for name in runs:  # warm caches
        with variant(analyzer, name):
            per_ticket(analyzer, ctx, tickets[:20])
    for _ in range(args.repeats):
        for name in runs:
            with variant(analyzer, name):
                runs[name].append(per_ticket(analyzer, ctx, tickets) | score_texts_costs(analyzer, texts))
    figures = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    print(f"{len(tickets)} tickets, medians of {args.repeats} interleaved repeats")
    print(f"{'':30} {'reference':>10} {'fast':>10} {'speed-up':>9}")
    for key, fast in figures["fast"].items():
        ref = figures["reference"][key]
        print(f"{key:30} {ref:10.2f} {fast:10.2f} {ref / fast if fast else float('nan'):8.1f}x")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "suggest.json").write_text(json.dumps({"tickets": len(tickets), **figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
