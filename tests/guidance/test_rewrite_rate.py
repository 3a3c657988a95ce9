"""The rewrite promise on held-out data: every flagged agent message is fixed without losing a fact."""

from guidance.quality import rewrite_report


def test_rewrites_clear_flagged_held_out_agent_messages(analyzer):
    report = rewrite_report(analyzer)
    assert report["flagged"] >= 100
    assert report["rate"] >= 0.97, [p for p in report["pairs"] if not p["verified"]][:3]
