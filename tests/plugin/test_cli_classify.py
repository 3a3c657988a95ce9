"""`trustdesk classify`: the stable JSON Lines contract, bad lines included."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "models" / "samples" / "tickets.jsonl"
MESSAGE_KEYS = {"index", "author_role", "language", "abstained", "scores", "flags", "spans", "escalation_kinds"}
LABELS = {"blame", "deflection", "escalation_risk"}


def run(args, stdin=None):
    result = CliRunner().invoke(main, args, input=stdin)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result, lines


def test_output_follows_the_contract():
    result, lines = run(["classify", str(SAMPLES)])
    assert result.exit_code == 0, result.output
    inputs = [json.loads(line) for line in SAMPLES.read_text().splitlines()]
    assert [o["id"] for o in lines] == [t["id"] for t in inputs]
    for out, ticket in zip(lines, inputs):
        assert set(out["scores"]) == LABELS
        assert set(out["customer"]) == {"blame", "deflection"}
        assert set(out["flags"]) <= LABELS
        assert len(out["messages"]) == len(ticket["messages"])
        for i, m in enumerate(out["messages"]):
            assert MESSAGE_KEYS <= set(m)
            assert m["index"] == i and m["author_role"] == ticket["messages"][i]["author_role"]
            body = m.get("body", ticket["messages"][i]["body"])
            for span in m["spans"]:
                assert span["label"] in m["flags"]
                assert body[span["start"]:span["end"]] == span["text"]
            for kind in m["escalation_kinds"]:
                assert kind["kind"] in {"public", "legal", "chargeback", "churn", "manager", "repeat_contact"}
                assert kind["evidence"]


def test_ticket_scores_roll_up_by_role():
    _, lines = run(["classify", str(SAMPLES)])
    for out in lines:
        agent = [m["scores"]["blame"] for m in out["messages"] if m["author_role"] == "agent" and not m["abstained"]]
        customer = [m["scores"]["blame"] for m in out["messages"] if m["author_role"] == "customer" and not m["abstained"]]
        assert out["scores"]["blame"] == (max(agent) if agent else None)
        assert out["customer"]["blame"] == (max(customer) if customer else None)


def test_field_cases_in_the_samples():
    _, lines = run(["classify", str(SAMPLES)])
    by_id = {o["id"]: o for o in lines}
    assert "deflection" in by_id["sample-1"]["flags"]
    assert "public" in {k["kind"] for k in by_id["sample-2"]["escalation_kinds"]}
    assert by_id["sample-4"]["messages"][0]["abstained"] is True


def test_html_body_is_returned_when_normalisation_changed_it():
    _, lines = run(["classify", str(SAMPLES)])
    message = {o["id"]: o for o in lines}["sample-3"]["messages"][1]
    assert message["body"].startswith("Hi Sam,") and "<p>" not in message["body"]


def test_bad_lines_are_reported_and_the_rest_go_on():
    good = json.dumps({"id": "ok", "messages": [{"author_role": "customer", "body": "hello"}]})
    stdin = "\n".join([good, "{not json", json.dumps({"id": "x", "messages": []}), "", json.dumps([1, 2]), good]) + "\n"
    result, lines = run(["classify", "-"], stdin)
    assert result.exit_code == 1
    assert [o.get("id") or o.get("line") for o in lines] == ["ok", 2, 3, 5, "ok"]
    assert "invalid JSON" in lines[1]["error"]
    assert "messages" in lines[2]["error"]
    assert "JSON object" in lines[3]["error"]


def test_a_line_that_is_not_utf8_is_a_bad_line():
    good = json.dumps({"id": "ok", "messages": [{"author_role": "customer", "body": "hello"}]}).encode()
    result = CliRunner().invoke(main, ["classify", "-"], input=good + b"\n\xff\xfe{\n" + good + b"\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1
    assert [o.get("id") or o.get("line") for o in lines] == ["ok", 2, "ok"]
    assert "UTF-8" in lines[1]["error"]


def test_all_good_exits_zero_from_stdin():
    good = json.dumps({"id": "1", "messages": [{"author_role": "customer", "body": "hi"}]})
    result, lines = run(["classify"], good + "\n")
    assert result.exit_code == 0 and len(lines) == 1


def test_missing_model_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["classify", "--model", str(tmp_path), str(SAMPLES)])
    assert result.exit_code != 0 and "not a Trustdesk model" in result.output


def test_missing_file_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["classify", str(tmp_path / "nope.jsonl")])
    assert result.exit_code != 0 and "cannot read" in result.output


@pytest.mark.parametrize("value, message", [("blame=2", "between 0 and 1"), ("blame", "LABEL=NUMBER"), ("nope=0.5", "unknown label")])
def test_bad_threshold_option(value, message):
    result = CliRunner().invoke(main, ["classify", "--threshold", value, str(SAMPLES)])
    assert result.exit_code == 2 and message in result.output


def test_threshold_override_changes_flags():
    _, default = run(["classify", str(SAMPLES)])
    _, strict = run(["classify", "--threshold", "deflection=1.0", str(SAMPLES)])
    assert any("deflection" in o["flags"] for o in default)
    assert not any("deflection" in o["flags"] for o in strict)


def test_console_script_is_installed():
    exe = shutil.which("trustdesk") or str(Path(sys.executable).with_name("trustdesk"))
    proc = subprocess.run([exe, "classify", str(SAMPLES)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == len(SAMPLES.read_text().splitlines())
