"""Benchmark the classifiers and print the figures the targets are checked against.

Targets (issue 2): >= 2,000 messages/s in batch; p99 <= 5 ms for one message;
model load <= 1 s; artifact <= 25 MB; resident memory of a loaded model <= 200 MB;
training from scratch <= 2 minutes. The machine is shared and noisy, so every
figure is a median of repeats, and throughput is also given as a ratio to a
baseline measured in the same run (the keyword lexicon over the same texts).

Run: python bench/bench_classify.py [--skip-train] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import store  # noqa: E402
from models.corpus import load_messages  # noqa: E402
from models.lexicon import lexicon_scores  # noqa: E402
from models.predict import Analyzer  # noqa: E402
from models.text import own_text  # noqa: E402
from models.ticket import load_ticket  # noqa: E402

RSS_PROBE = """
import sys, json, time
start = time.perf_counter()
sys.path.insert(0, {root!r})
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
import models.predict, models.ticket, numpy, scipy, sklearn  # imports alone, the baseline
before = rss()
from models.predict import Analyzer
from models.ticket import load_ticket
a = Analyzer.load()
a.analyze(load_ticket({{"id": "1", "messages": [{{"author_role": "customer", "body": "where is my refund, this is the third time I am asking"}}]}}))
cold = time.perf_counter() - start
english = rss()
a.analyze(load_ticket({{"id": "2", "messages": [{{"author_role": "customer", "body": "Hola, mi pedido no ha llegado todavía y necesito el reembolso."}}]}}))
print(json.dumps({{"imports_mb": before, "loaded_mb": english, "with_language_model_mb": rss(), "cold_start_s": cold}}))
"""


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()
    figures: dict[str, float] = {}

    from models.language import warm_up

    figures["artifact_mb"] = (store.DEFAULT_MODEL_DIR / store.ARTIFACT).stat().st_size / 1e6
    figures["model_load_s"] = median_time(lambda: Analyzer.load(), args.repeats)
    figures["language_model_load_s"] = median_time(lambda: _fresh_language_load(), 3)
    analyzer = Analyzer.load()
    warm_up()

    examples = load_messages()[:4000]
    tickets = [load_ticket({"id": str(i), "messages": [{"author_role": e.role, "body": e.text}]}) for i, e in enumerate(examples)]
    n = len(tickets)
    analyzer.analyze_many(tickets[:100])  # warm caches
    batch_s = median_time(lambda: analyzer.analyze_many(tickets), args.repeats)
    texts = [(own_text(e.text), e.role) for e in examples]
    lexicon_s = median_time(lambda: [lexicon_scores(t, r) for t, r in texts], args.repeats)
    figures["batch_messages_per_s"] = n / batch_s
    figures["lexicon_messages_per_s"] = n / lexicon_s
    figures["batch_vs_lexicon_time_ratio"] = batch_s / lexicon_s

    latencies = []
    for ticket in tickets[:2000]:
        start = time.perf_counter()
        analyzer.analyze(ticket)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    figures["single_p50_ms"] = latencies[len(latencies) // 2]
    figures["single_p99_ms"] = latencies[int(len(latencies) * 0.99) - 1]

    probe = subprocess.run([sys.executable, "-c", RSS_PROBE.format(root=str(ROOT))], capture_output=True, text=True, check=True)
    rss = json.loads(probe.stdout)
    figures["cold_start_s"] = rss["cold_start_s"]
    figures["rss_imports_only_mb"] = rss["imports_mb"]
    figures["rss_model_loaded_mb"] = rss["loaded_mb"]
    figures["rss_with_language_model_mb"] = rss["with_language_model_mb"]

    if not args.skip_train:
        from models.train import train

        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            train(out_dir=Path(tmp))
            figures["train_from_scratch_s"] = time.perf_counter() - start

    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:,.3f}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "classify.json").write_text(json.dumps(figures, indent=2) + "\n")


def _fresh_language_load() -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


if __name__ == "__main__":
    main()
