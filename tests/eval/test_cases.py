"""Case files: what they may say, and the line a mistake is reported at; the language of an answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.eval.cases import CaseFileError, load_cases, principal_of
from bot.eval.language import detect_language
from bot.types import Role
from tests.eval.rig import EVALS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_demo_evals_load_and_are_enough() -> None:
    cases = load_cases([EVALS])
    assert len(cases) >= 40
    assert {loaded.case.platform for loaded in cases} == {"console", "slack", "discord"}
    assert any(len(loaded.case.turns) > 1 for loaded in cases)


def test_a_case_with_plain_values_and_matchers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
- name: one
  as: customer:C-1001
  turns: "Where is ORD-10001?"
  expect:
    tools:
      called: [{name: lookup_order, args: {order_id: ORD-10001, note: {contains: X}, n: {regex: "^1"}}}]
    contains: single
""",
    )
    (loaded,) = load_cases([path])
    case = loaded.case
    assert loaded.line == 2
    assert case.turns[0].user == "Where is ORD-10001?"
    assert case.expect.contains == ("single",)
    args = case.expect.tools.called[0].args
    assert args["order_id"].matches("ORD-10001") and not args["order_id"].matches("ORD-10002")
    assert args["note"].matches("an x here") and args["n"].matches(12) and not args["n"].matches(21)
    assert case.principal().customer_id == "C-1001"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("- name: a\n  turns: [hi\n", 3, "YAML: while parsing a flow sequence"),
        ("name: a\nturns: [hi]\n", 1, "a case file is a YAML list of cases"),
        ("- name: a\n  turns: [hi]\n- name: a\n  turns: [ho]\n", 3, "case name 'a' is used before"),
        ("- name: a\n  turns: [hi]\n  expect:\n    escalates: maybe\n", 4, "a: expect.escalates:"),
        ("- name: a\n  turns: []\n", 2, "a: turns: Tuple should have at least 1 item"),
        ("- name: a\n  as: wizard\n  turns: [hi]\n", 2, "unknown asker 'wizard'"),
        ("- name: a\n  turns: [hi]\n  platform: irc\n", 3, "a: platform:"),
        ("- name: Bad Name\n  turns: [hi]\n", 1, "Bad Name: name: must be lower-case"),
        ("- turns: [hi]\n", 1, "case 1: name: Field required"),
        (
            "- name: a\n  turns: [hi]\n  expect:\n    tools:\n      called:\n        - name: x\n"
            "          args: {k: {exact: 1, regex: y}}\n",
            7,
            "expect.tools.called.0.args.k: give exactly one of exact, contains, regex",
        ),
    ],
)
def test_a_mistake_names_its_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CaseFileError) as raised:
        load_cases([path])
    message = str(raised.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message
    assert "\n" not in message


def test_askers() -> None:
    assert principal_of("customer", "slack").customer_id is None
    assert principal_of("lead", "discord").roles == {Role.EMPLOYEE, Role.LEAD}
    assert principal_of("admin", "console").is_staff
    with pytest.raises(ValueError, match="unknown asker"):
        principal_of("employee:C-1", "console")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Your order ORD-10001 has shipped with UPS; the tracking number is 1Z999AA10123456784.", "en"),
        ("Ihre Bestellung ORD-10001 ist unterwegs, die Sendungsnummer ist 1Z999AA10123456784.", "de"),
        ("Votre commande a été expédiée et vous la recevrez dans les trois jours.", "fr"),
        ("Su pedido ha sido enviado y lo recibirá en tres días.", "es"),
        ("Il tuo ordine è stato spedito e lo riceverai tra tre giorni.", "it"),
        ("Uw bestelling is verzonden en wordt binnen drie dagen bij u bezorgd.", "nl"),
        ("ORD-10001 1Z999AA10123456784", None),
    ],
)
def test_the_language_of_an_answer(text: str, language: str | None) -> None:
    assert detect_language(text) == language
