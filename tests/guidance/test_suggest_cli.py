"""`trustdesk suggest`: the stable JSON Lines contract."""

import json
from pathlib import Path

from click.testing import CliRunner

from plugin.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "models" / "samples" / "tickets.jsonl"
KEYS = {"id", "risk", "reasons", "summary", "advice", "suggestions", "rewrite", "verification"}


def run(args, stdin=None):
    result = CliRunner().invoke(main, args, input=stdin)
    return result, [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_output_follows_the_contract():
    result, lines = run(["suggest", str(SAMPLES)])
    assert result.exit_code == 0, result.output
    inputs = [json.loads(line) for line in SAMPLES.read_text().splitlines()]
    assert [o["id"] for o in lines] == [t["id"] for t in inputs]
    for out, ticket in zip(lines, inputs):
        assert KEYS <= set(out)
        assert out["risk"] in {"low", "medium", "high"}
        assert isinstance(out["summary"], str) and out["summary"]
        assert all(a["kind"] in {"do", "avoid"} and a["text"] for a in out["advice"])
        assert 1 <= len(out["suggestions"]) <= 3
        for s in out["suggestions"]:
            assert {"text", "playbook", "scores", "to_confirm"} <= set(s)
            assert s["scores"]["blame"] < 0.5 and s["scores"]["deflection"] < 0.5
        for r in out["reasons"]:
            assert {"label", "evidence", "start", "end", "message_index"} <= set(r)
        assert set(out["verification"]) >= {"passed", "fallbacks"}
        if ticket["messages"][-1]["author_role"] == "agent":
            assert {"original", "text", "changes", "to_confirm", "scores"} <= set(out["rewrite"])
        else:
            assert out["rewrite"] is None


def test_field_cases():
    _, lines = run(["suggest", str(SAMPLES)])
    by_id = {o["id"]: o for o in lines}
    rental = by_id["sample-1"]
    assert "Expedia" in rental["rewrite"]["text"] and "I'll contact Expedia" in rental["rewrite"]["text"]
    assert rental["suggestions"][0]["playbook"] in {"marketplace-partner", "booking-lost"}
    assert by_id["sample-2"]["risk"] == "high"
    assert "public" in by_id["sample-2"]["summary"]


def test_bad_lines_are_reported_and_the_rest_go_on():
    good = json.dumps({"id": "ok", "messages": [{"author_role": "customer", "body": "hello"}]})
    result, lines = run(["suggest", "-"], "\n".join([good, "{nope", good]) + "\n")
    assert result.exit_code == 1
    assert [o.get("id") or o.get("line") for o in lines] == ["ok", 2, "ok"]


def test_bad_playbook_directory_is_a_clear_error(tmp_path):
    (tmp_path / "x.toml").write_text("id = 'x'\n")
    result = CliRunner().invoke(main, ["suggest", "--playbooks", str(tmp_path), str(SAMPLES)])
    assert result.exit_code != 0 and "x.toml" in result.output
