"""Language detection: abstain on other languages, never on short English-ish text."""

import pytest

from models.language import detect


@pytest.mark.parametrize("text", ["ok", "😡😡😡", "thanks!!", "@AmazonHelp wtf", "still nothing??", "?"])
def test_short_or_emoji_text_is_scored(text):
    assert detect(text).abstained is False


@pytest.mark.parametrize(
    "text",
    [
        "hello my order is not came since two week, kindly do the needful and revert back asap",
        "i am very disappoint with service, three time i call and nobody is helping me for refund",
    ],
)
def test_non_native_english_is_english(text):
    guess = detect(text)
    assert guess.language == "en" and guess.abstained is False


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Hola, mi pedido no ha llegado todavía y necesito el reembolso cuanto antes, por favor.", "es"),
        ("Guten Tag, ich warte seit drei Wochen auf meine Rückerstattung und niemand antwortet mir.", "de"),
        ("Bonjour, ma commande n'est toujours pas arrivée et personne ne répond à mes messages.", "fr"),
    ],
)
def test_other_languages_abstain(text, lang):
    guess = detect(text)
    assert guess.abstained is True and guess.language == lang


def test_abstained_message_has_null_scores_and_no_flags(classify_one):
    result = classify_one("Hola, mi pedido no ha llegado todavía y voy a denunciarles ante la autoridad de consumo.")
    assert result["abstained"] is True
    assert result["scores"] == {"blame": None, "deflection": None, "escalation_risk": None}
    assert result["flags"] == [] and result["spans"] == []
