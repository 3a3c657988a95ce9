"""The language-model backend inside guidance: used when it passes the checks, never trusted blindly."""

import json

import pytest
import requests
import responses

from guidance import partners, playbooks
from guidance.engine import Context, guide
from guidance.llm import ChatBackend
from models.ticket import load_ticket

URL = "https://llm.test/v1/chat/completions"
DRAFT = "Hi Dana, please contact Expedia about booking EXP-77120, it is not our responsibility. Email dana@example.com."


def answer(text):
    return {"choices": [{"message": {"role": "assistant", "content": text}}]}


@pytest.fixture
def ticket():
    return load_ticket({"id": "1", "messages": [
        {"author_role": "customer", "body": "My car wasn't there. Booking EXP-77120, I'm dana@example.com."},
        {"author_role": "agent", "body": DRAFT}]})


@pytest.fixture
def ctx(analyzer):
    return Context(analyzer, playbooks.load_dir(), partners.configured({}), ChatBackend(URL, "test-model", timeout=2))


@responses.activate
def test_a_passing_model_rewrite_is_used_and_no_personal_data_leaves(ctx, analyzer, ticket):
    good = ("Hi Dana, I'm sorry about booking EXP-77120. I'll contact Expedia myself today and update you by [time] "
            "at [EMAIL_1].")
    responses.post(URL, json=answer("Hi Dana, I'm on it and will update you by [time]."))  # suggestion
    responses.post(URL, json=answer(good))  # rewrite
    out = guide(ticket, analyzer.analyze(ticket), ctx)
    assert out["rewrite"]["text"] == good.replace("[EMAIL_1]", "dana@example.com")
    assert out["suggestions"][1]["playbook"] == "language-model"
    sent = " ".join(call.request.body.decode() for call in responses.calls)
    assert "dana@example.com" not in sent and "[EMAIL_1]" in sent


@responses.activate
def test_a_model_rewrite_that_drops_a_fact_falls_back_to_the_built_in_one(ctx, analyzer, ticket):
    responses.post(URL, json=answer("Hi Dana, leave it with me."))  # suggestion
    responses.post(URL, json=answer("Hi Dana, I'll sort this out with Expedia today."))  # rewrite lost EXP-77120, the email
    out = guide(ticket, analyzer.analyze(ticket), ctx)
    assert "EXP-77120" in out["rewrite"]["text"] and "dana@example.com" in out["rewrite"]["text"]
    assert any("language-model rewrite skipped" in f for f in out["verification"]["fallbacks"])


@responses.activate
def test_a_timeout_falls_back_gracefully(ctx, analyzer, ticket):
    responses.post(URL, body=requests.exceptions.Timeout())
    responses.post(URL, body=requests.exceptions.Timeout())
    out = guide(ticket, analyzer.analyze(ticket), ctx)
    assert out["rewrite"]["changes"] and out["suggestions"]
    assert any("language model unavailable" in f for f in out["verification"]["fallbacks"])


@responses.activate
def test_a_model_suggestion_that_deflects_is_never_offered(ctx, analyzer, ticket):
    responses.post(URL, json=answer("Expedia is a third party, not affiliated with us. Please contact Expedia directly."))
    responses.post(URL, json=answer("Hi Dana, I'll contact Expedia today about EXP-77120 and dana@example.com by [time]."))
    out = guide(ticket, analyzer.analyze(ticket), ctx)
    assert all("not affiliated" not in s["text"] for s in out["suggestions"])
    assert any("language-model suggestion skipped" in f for f in out["verification"]["fallbacks"])
    json.dumps(out)


@responses.activate
def test_a_model_rewrite_that_invents_an_action_is_not_offered(ctx, analyzer, ticket):
    responses.post(URL, json=answer("Hi Dana, leave it with me."))
    responses.post(URL, json=answer("Hi Dana, I've contacted Expedia about booking EXP-77120 and refunded you; "
                                    "confirmation goes to dana@example.com."))
    out = guide(ticket, analyzer.analyze(ticket), ctx)
    assert "I've contacted" not in out["rewrite"]["text"]
    assert any("claims" in f for f in out["verification"]["fallbacks"])
