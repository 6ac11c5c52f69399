"""`supportbot kb search [--as PRINCIPAL] [--json] QUERY` in a subprocess: the search_kb tool's own search
(what each principal may read), as a script reads it (``--json``) and as a person does; and the keyless
answer when no article is relevant."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.agent.fallback import NOTHING_FOUND_TEXT
from tests.e2e.test_console_cli import cli, cli_env

HIT_KEYS = {"title", "url", "section", "score", "visibility", "source"}
STAFF_ARTICLE = "Refund approval policy (staff)"
UNRELATED = "who is the president"


async def test_json_hits_show_internal_articles_to_staff_only(tmp_path: Path) -> None:
    customer, employee = await asyncio.gather(
        cli(cli_env(tmp_path / "a"), "kb", "search", "--json", "refund approval"),
        cli(cli_env(tmp_path / "b"), "kb", "search", "--as", "employee", "--json", "refund approval"),
    )

    assert customer.code == 0 and employee.code == 0, customer.stderr + employee.stderr
    seen_by_customer, seen_by_staff = json.loads(customer.stdout), json.loads(employee.stdout)
    for hits in (seen_by_customer, seen_by_staff):
        assert hits and all(set(hit) == HIT_KEYS for hit in hits)
        assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)
        assert all(hit["url"].startswith("https://") and hit["source"] for hit in hits)
    assert {hit["visibility"] for hit in seen_by_customer} == {"public"}
    assert seen_by_staff[0]["title"] == STAFF_ARTICLE and seen_by_staff[0]["visibility"] == "internal"


async def test_nothing_relevant_is_an_empty_list_and_a_plain_line(tmp_path: Path) -> None:
    as_json, as_table = await asyncio.gather(
        cli(cli_env(tmp_path / "a"), "kb", "search", "--as", "lead", "--json", UNRELATED),
        cli(cli_env(tmp_path / "b"), "kb", "search", UNRELATED),
    )

    assert as_json.code == 0 and as_table.code == 0, as_json.stderr + as_table.stderr
    assert json.loads(as_json.stdout) == []
    assert as_table.stdout.strip() == "No article is relevant to that query."


async def test_the_table_lists_each_hit_with_its_section_source_and_link(tmp_path: Path) -> None:
    run = await cli(cli_env(tmp_path), "kb", "search", "--as", "employee", "refund approval")

    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["SCORE", "VISIBILITY", "SOURCE", "ARTICLE"]
    assert STAFF_ARTICLE in lines[1] and "internal" in lines[1]
    assert lines[2].strip().startswith("https://help.northwind.example/")


async def test_a_bad_principal_is_refused_with_status_2(tmp_path: Path) -> None:
    run = await cli(cli_env(tmp_path), "kb", "search", "--as", "root", "--json", "refunds")

    assert run.code == 2 and "--as" in run.stderr and run.stdout == ""


async def test_without_a_key_an_unanswerable_question_gets_no_unrelated_articles(tmp_path: Path) -> None:
    run = await cli(cli_env(tmp_path), "ask", f"{UNRELATED}?")

    assert run.code == 0, run.stderr
    assert NOTHING_FOUND_TEXT in run.stdout
    assert "look relevant" not in run.stdout and "Sources:" not in run.stdout


async def test_a_question_in_another_language_finds_the_english_article(tmp_path: Path) -> None:
    questions = {
        "Wo ist meine Bestellung?": "Tracking your order",
        "Zapomniałem hasła do konta": "Account sign-in and password reset",
        "Hur lång tid tar återbetalningen?": "When will I get my refund?",
        "Posso cambiare la taglia delle scarpe?": "Exchanges for a different size or colour",
    }
    runs = await asyncio.gather(
        *(
            cli(cli_env(tmp_path / str(n)), "kb", "search", "--json", question)
            for n, question in enumerate(questions)
        )
    )

    for (question, title), run in zip(questions.items(), runs, strict=True):
        assert run.code == 0, run.stderr
        assert [hit["title"] for hit in json.loads(run.stdout)][:3].count(title) == 1, question


async def test_without_a_key_a_question_in_french_is_answered_from_the_article(tmp_path: Path) -> None:
    run = await cli(cli_env(tmp_path), "ask", "Comment annuler ma commande ?")

    assert run.code == 0, run.stderr
    assert "Changing or cancelling an order" in run.stdout and NOTHING_FOUND_TEXT not in run.stdout
