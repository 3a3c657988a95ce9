"""Benchmark draft-check: latency of POST /api/v1/tickets/<source>/<id>/draft-check (target p99 <= 30 ms).

A ticket of realistic length (12 messages) is stored through the webhook; then
drafts are checked against it through the Flask test client, as an agent's
sidebar does while typing (each draft one word longer than the last, so no
two are the same). The baseline, in the same run, is the classifier alone on
each draft (`Analyzer.score_texts`): what any check must pay. Run:
python bench/bench_draft_check.py [--calls N]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations.generic.adapter import signed_headers  # noqa: E402
from plugin import tokens  # noqa: E402
from plugin.app import create_app  # noqa: E402
from plugin.services import services  # noqa: E402

SECRET = "bench-secret"
CUSTOMER = ("I booked a room for March 3rd through your site and my card was charged twice, reference AB-12345. "
            "This is the third time I'm writing about it and nobody has answered me properly. I want the duplicate "
            "charge refunded this week, otherwise I will dispute it with my bank.")
AGENT = ("Thanks for your patience, Dana. I can see both charges on booking AB-12345 and I have asked our billing team "
         "to reverse the duplicate. I'll check on it tomorrow morning and write to you as soon as it is done.")
CLEAN = ("Hi Dana, I'm sorry you had to write again. I've checked booking AB-12345 myself: the second charge is a "
         "duplicate and I have reversed it just now. You will see the refund on your card within three to five "
         "working days, and I will confirm here once our billing team has closed it.")
DEFLECTING = ("Hi Dana, the duplicate charge is handled by your bank, not by us. Please contact your bank directly "
              "about booking AB-12345, as we cannot do anything about charges on your card.")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def typing(text: str, calls: int) -> list[str]:
    """Drafts as they grow while the agent types (from the fifth word on, repeated with a suffix when short)."""
    words = text.split()
    drafts = [" ".join(words[:n]) for n in range(5, len(words) + 1)]
    return [d if i < len(drafts) else f"{drafts[i % len(drafts)]} ({i})" for i, d in
            ((i, drafts[i % len(drafts)]) for i in range(calls))]


def run(client, path: str, headers: dict, drafts: list[str], rewrite: bool) -> tuple[list[float], int]:
    times, flagged = [], 0
    for draft in drafts:
        start = time.perf_counter()
        response = client.post(path, json={"draft": draft, "rewrite": rewrite}, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.json
        flagged += bool({"blame", "deflection"} & set(response.json["draft"]["flags"]))
    return times, flagged


def line(name: str, times: list[float], extra: str = "") -> str:
    return f"{name:<34} n={len(times):<4} p50 {percentile(times, 0.5):6.2f} ms  p99 {percentile(times, 0.99):6.2f} ms{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one access-log line per call would be timed too
    app = create_app({"TESTING": True, "data_dir": tempfile.mkdtemp(prefix="bench-draft-"),
                      "generic_webhook_secret": SECRET})
    client = app.test_client()
    messages = [{"author_role": "customer" if i % 2 == 0 else "agent", "body": CUSTOMER if i % 2 == 0 else AGENT,
                 "created_at": f"2026-03-{1 + i:02d}T09:00:00Z"} for i in range(12)]
    body = json.dumps({"event_id": "bench-1", "ticket": {"id": "B-1", "requester": {"id": "c-1", "name": "Dana"},
                                                         "messages": messages}}).encode()
    assert client.post("/webhooks/generic", data=body, headers=signed_headers(SECRET, body)).status_code == 200
    with app.app_context(), services().sessions.begin() as session:
        headers = {"Authorization": f"Bearer {tokens.create(session, 'bench', 'agent')}"}
    path = "/api/v1/tickets/generic/B-1/draft-check"
    with app.app_context():
        analyzer = services().analyzer
    clean = typing(CLEAN, args.calls)
    run(client, path, headers, clean[:20], True)  # warm-up: the ticket is scored once and cached
    baseline = []
    for draft in clean:
        start = time.perf_counter()
        analyzer.score_texts([draft], ["agent"])
        baseline.append((time.perf_counter() - start) * 1000)
    checked, flagged = run(client, path, headers, clean, True)
    print(f"ticket: {len(messages)} messages, {sum(len(m['body']) for m in messages)} characters")
    print(line("baseline (score_texts on the draft)", baseline))
    print(line("draft-check, clean drafts", checked, f"  ({flagged} flagged blame/deflection)"))
    print(f"ratio draft-check / baseline: p50 {percentile(checked, .5) / percentile(baseline, .5):.2f}x, "
          f"p99 {percentile(checked, .99) / percentile(baseline, .99):.2f}x")
    deflecting = typing(DEFLECTING, max(args.calls // 3, 20))
    without, flagged = run(client, path, headers, deflecting, False)
    print(line("deflecting drafts, rewrite off", without, f"  ({flagged} flagged blame/deflection)"))
    with_rewrite, flagged = run(client, path, headers, deflecting, True)
    print(line("deflecting drafts, with rewrite", with_rewrite, f"  ({flagged} flagged blame/deflection)"))


if __name__ == "__main__":
    main()
