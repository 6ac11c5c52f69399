"""The support glossary that searches a question in another language with its English words."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.kb.glossary import Glossary, glossary

GLOSSARY = "\n".join(
    [
        "# a comment line",
        "en\tde\tfr\tes\tit\tpt\tnl\tsv\tpl\tchat\ttopic",
        "order\tBestellung\tcommande\tpedido\tordine\tpedido\tbestelling\tbeställning\tzamówienie\tstuff\t",
        "password\tPasswort\tmot de passe\tcontraseña\t\tsenha\twachtwoord\tlösenord\thasło"
        "\tpw|pass word\tyes",
        "track\tverfolgen\tsuivre\trastrear\ttracciare\trastrear\tvolgen\tspåra\tśledzić\t\tyes",
        "refund money\tRückerstattung|Geld zurück\tremboursement\treembolso\trimborso\treembolso\t\t\t"
        "\tmoneyback\tyes",
        "assembly\t\t\t\t\tmontagem\t\t\t\t\t",
        "monday\tMontag\tlundi\tlunes\tlunedì\tsegunda-feira\tmaandag\tmåndag\tponiedziałek\t\t",
        "shoe\tSchonen\t\t\t\t\t\t\t\t\t",
        "gift card voucher\tGutschein\t\t\t\t\t\t\t\tgc\tyes",
        "promo voucher\tRabattcode|Gutschein\t\t\t\t\t\t\t\t\tyes",
        "gift present\tGeschenk\t\t\t\t\t\t\t\t\t",
        "gift wrap wrapping\tGeschenkverpackung\t\t\t\t\t\t\t\t\tyes",
        "\two|ist|meine|sind|ich|will|mein|am|schon|die|da\tou|est|ma|j|ai|mon\tmi|como\t\tmeu\tu\t\t\tlol|pls|u\t",
    ]
)
INDEX = {
    "order",
    "password",
    "track",
    "refund",
    "money",
    "status",
    "my",
    "is",
    "monday",
    "assembly",
    "shoe",
    "gift",
    "card",
}
"""The words the (English) index holds in these tests."""


def holds(found: Sequence[str]) -> set[str]:
    return {word for word in found if word in INDEX}


def only_order(found: Sequence[str]) -> set[str]:
    """An English index that holds one word."""
    return {word for word in found if word == "order"}


@pytest.fixture
def small() -> Glossary:
    return Glossary.parse(GLOSSARY)


def test_a_question_in_another_language_is_searched_with_its_english_words(small: Glossary) -> None:
    assert small.translate("Wo ist meine Bestellung?", holds).query == "order"
    assert small.translate("Como rastrear meu pedido?", holds).query == "track order"


def test_inflected_forms_and_missing_accents_are_found(small: Glossary) -> None:
    assert small.translate("Wo sind meine Bestellungen", holds).query == "order"
    assert small.translate("contrasena olvidada mi", holds).query == "password olvidada"  # no tilde


def test_phrases_are_matched_longest_first(small: Glossary) -> None:
    assert small.translate("J'ai oublié mon mot de passe", holds).query == "oublie password"
    assert small.translate("Ich will mein Geld zurück", holds).query == "refund money"


def test_a_word_is_its_own_entry_before_another_entry_cut_short(small: Glossary) -> None:
    # "montags" cut is "Montag", Monday, though "montagem" (assembly) cut by its ending is "montag" too.
    assert small.translate("ist die Bestellung montags da", holds).query == "order monday"


def test_a_function_word_is_dropped_rather_than_read_as_a_concept(small: Glossary) -> None:
    # "schon" (already) is not "Schonen" cut short.
    assert small.translate("Ist meine Bestellung schon unterwegs", holds).query == "order unterwegs"


def test_an_english_question_is_searched_as_written(small: Glossary) -> None:
    translation = small.translate("Where is my order? Track it", holds)
    assert (translation.changed, translation.query) == (False, "Where is my order? Track it")


def test_a_question_of_one_word_is_translated_only_as_the_glossary_writes_it(small: Glossary) -> None:
    assert small.translate("Bestellung?", holds).query == "order"
    # A cut ending could turn an English word into a foreign one: with no function word to tell the
    # language, "Bestellungen" is not cut to "Bestellung".
    assert not small.translate("Bestellungen", holds).changed


def test_a_word_the_index_holds_is_never_translated_nor_dropped(small: Glossary) -> None:
    # A knowledge base written in German keeps matching its own words.
    german = {"wo", "ist", "meine", "bestellung"}
    translation = small.translate("Wo ist meine Bestellung?", lambda found: {w for w in found if w in german})
    assert not translation.changed


def test_english_words_the_index_lacks_are_not_added(small: Glossary) -> None:
    assert small.translate("Wo ist meine Rückerstattung", lambda found: set()).query == "ruckerstattung"
    refund_only = small.translate(
        "Wo ist meine Rückerstattung", lambda found: {w for w in found if w == "refund"}
    )
    assert refund_only.query == "refund"


def test_a_malformed_line_names_its_number() -> None:
    with pytest.raises(ValueError, match="glossary line 3: 2 columns, not 11"):
        Glossary.parse("# header next\nen\tde\tfr\tes\tit\tpt\tnl\tsv\tpl\tchat\ttopic\norder\tBestellung")


def test_the_packaged_glossary_loads_and_covers_every_language() -> None:
    packaged = glossary()
    assert len(packaged.exact) > 1_000
    for question in [
        "Wo ist meine Bestellung?",
        "¿Dónde está mi pedido?",
        "Où est ma commande ?",
        "Dov'è il mio ordine?",
        "Onde está o meu pedido?",
        "Waar is mijn bestelling?",
        "Var är min beställning?",
        "Gdzie jest moje zamówienie?",
    ]:
        assert packaged.translate(question, only_order).query == "order", question


def test_informal_english_is_searched_with_the_words_of_a_help_article(small: Glossary) -> None:
    assert small.translate("lol where my stuff at", holds).query == "where my order at"
    assert small.translate("forgot my pw pls", holds).query == "forgot my password"
    # A phrase of several words, and a word the index holds, which is never rewritten.
    assert small.translate("I want my moneyback", holds).query == "i want my refund money"
    assert not small.translate("where is my stuff", lambda found: set(found)).changed
    # Chat English that is also another language's function word ("u": Dutch) is not counted as foreign:
    # "Bestellungen" is read as a word of two, matched only as the glossary writes it, not cut.
    assert small.translate("Bestellungen u", holds).query == "bestellungen"


def test_a_question_names_the_support_topics_it_asks_about(small: Glossary) -> None:
    wrapping = small.topics[("gift", "wrap", "wrapping")]
    assert wrapping == {"wrap"}  # stems; "gift" names three concepts: it is evidence of none
    assert small.named_topics("Can you gift wrap my order?") == [wrapping]
    assert small.named_topics("Gibt es eine Geschenkverpackung?") == [wrapping]
    assert small.named_topics("I lost my pw") == [small.topics[("password",)]]
    # A word of two topics is covered by either of them.
    assert small.named_topics("my voucher got stolen") == [{"voucher", "promo", "card"}]
    assert small.named_topics("Wo ist mein Gutschein?") == [{"voucher", "promo", "card"}]
    assert small.named_topics("Mein Rabattcode geht nicht") == [{"voucher", "promo"}]
    assert small.named_topics("Where is my order on Monday?") == []
