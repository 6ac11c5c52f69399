"""`supportbot eval` end to end: a real process, the real SDK over HTTP to the fake Anthropic API answered by
the project's fake support model, the repository's demo evals, config, KB and orders."""

from __future__ import annotations

import json
from pathlib import Path

from fakes.anthropic import FakeAnthropic

from tests.eval.rig import EVALS, run_eval
from tests.serve.rig import ROOT

SOME = ("order-status-own", "another-customers-order-refused", "returns-window", "asks-for-a-human")


def only(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--only", name)]


def case_from(file: str, name: str) -> str:
    """One case of a demo eval file, as YAML text (the file's own lines, from its ``- name:`` on)."""
    text = (EVALS / file).read_text(encoding="utf-8")
    start = text.index(f"- name: {name}\n")
    end = text.find("\n- name: ", start + 1)
    return text[start : end if end != -1 else len(text)].rstrip() + "\n"


async def test_the_demo_evals_pass_against_the_fake_support_model(
    support_fake: FakeAnthropic, tmp_path: Path
) -> None:
    run = await run_eval(support_fake, tmp_path, str(EVALS))
    total = sum(text.count("\n- name: ") + text.startswith("- name: ") for text in _eval_texts())
    assert total >= 40
    assert f"{total} of {total} passed, 0 failed" in run.stdout, run.stdout[-3000:]
    assert run.status == 0
    assert "FAIL" not in run.stdout
    assert support_fake.message_requests  # the model answered, through the Messages API


def _eval_texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(EVALS.glob("*.yaml"))]


async def test_a_case_broken_on_purpose_fails_with_its_reasons(
    support_fake: FakeAnthropic, tmp_path: Path
) -> None:
    case = case_from("orders.yaml", "order-status-own")
    broken = case.replace('contains: ["1Z999AA10123456784", "shipped"]', 'contains: ["1Z999AA10123456785"]')
    broken = broken.replace("order_id: ORD-10001}", "order_id: ORD-10007}")
    assert broken != case
    (tmp_path / "broken.yaml").write_text(broken, encoding="utf-8")

    run = await run_eval(support_fake, tmp_path, "broken.yaml", "--json")

    assert run.status == 1
    report = json.loads(run.stdout)
    assert (report["cases"], report["passed"], report["failed"]) == (1, 0, 1)
    reasons = report["results"][0]["reasons"]
    assert any("does not contain '1Z999AA10123456785'" in reason for reason in reasons), reasons
    assert any(
        reason.startswith("lookup_order(order_id 'ORD-10007') was not called (called: lookup_order(")
        for reason in reasons
    ), reasons

    table = await run_eval(support_fake, tmp_path, "broken.yaml")
    assert table.status == 1
    assert "FAIL" in table.stdout and "1Z999AA10123456785" in table.stdout
    assert "0 of 1 passed, 1 failed" in table.stdout


async def test_a_bad_case_file_is_one_line_naming_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "syntax.yaml").write_text('- name: a\n  turns: ["hi"\n  as: lead\n', encoding="utf-8")
    schema = case_from("policies.yaml", "password-reset").replace("    cites:", "    citez:")
    (tmp_path / "schema.yaml").write_text("# a comment\n" + schema, encoding="utf-8")
    (tmp_path / "regex.yaml").write_text(
        '- name: bad-regex\n  turns: ["hi"]\n  expect:\n    regex: ["(unclosed"]\n', encoding="utf-8"
    )

    for file, line, words in (
        ("syntax.yaml", 3, "YAML:"),
        ("schema.yaml", 7, "password-reset: expect.citez: unknown key"),
        ("regex.yaml", 4, "expect.regex: not a regular expression"),
    ):
        run = await run_eval(None, tmp_path, file)
        assert run.status == 2, run
        assert run.stdout == ""
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, run.stderr
        assert lines[0].startswith(f"supportbot: {file}:{line}: "), lines[0]
        assert words in lines[0]
        assert "Traceback" not in run.stderr


async def test_json_has_the_counts_and_one_result_per_case(
    support_fake: FakeAnthropic, tmp_path: Path
) -> None:
    run = await run_eval(support_fake, tmp_path, str(EVALS), "--json", *only(*SOME))

    assert run.status == 0, run.stderr
    report = json.loads(run.stdout)
    assert (report["cases"], report["passed"], report["failed"]) == (4, 4, 0)
    assert report["model"].startswith("claude-")
    assert sorted(result["name"] for result in report["results"]) == sorted(SOME)  # in the files' order
    for result in report["results"]:
        assert result["passed"] is True and result["reasons"] == []
        assert result["cost_usd"] > 0 and result["latency_ms"] > 0
        assert result["tools"]
    tools = {result["name"]: result["tools"] for result in report["results"]}
    assert tools["order-status-own"] == ["lookup_order"]
    assert tools["asks-for-a-human"] == ["escalate_to_human"]
    turn = next(r for r in report["results"] if r["name"] == "order-status-own")["turns"][0]
    assert turn["tools"] == [{"name": "lookup_order", "input": {"order_id": "ORD-10001"}, "outcome": "ok"}]
    assert "1Z999AA10123456784" in turn["answer"]


async def test_html_writes_a_self_contained_report(support_fake: FakeAnthropic, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    run = await run_eval(support_fake, tmp_path, str(EVALS), "--html", str(report), *only(*SOME[:2]))

    assert run.status == 0
    assert f"wrote {report}" in run.stdout
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "2 of 2 passed" in page
    for name in SOME[:2]:
        assert name in page
    assert "<script" not in page and "src=" not in page and "<link" not in page  # nothing fetched


async def test_compare_shows_where_two_prompts_differ(support_fake: FakeAnthropic, tmp_path: Path) -> None:
    system = (ROOT / "config" / "prompts" / "system.md").read_text(encoding="utf-8")
    (tmp_path / "a.md").write_text(system, encoding="utf-8")
    (tmp_path / "b.md").write_text(system + "\nNever use tools.\n", encoding="utf-8")
    names = only("order-status-own", "returns-window", "reveal-the-system-prompt")
    args = ["--compare", "prompt:a.md", "prompt:b.md", *names]

    run = await run_eval(support_fake, tmp_path, str(EVALS), "--json", *args)

    assert run.status == 1  # variant B fails
    report = json.loads(run.stdout)
    assert report["variants"] == ["prompt:a.md", "prompt:b.md"]
    assert (report["a"]["passed"], report["b"]["passed"]) == (3, 1)
    assert report["differences"] == 2
    by_name = {case["name"]: case for case in report["cases"]}
    assert by_name["reveal-the-system-prompt"]["differs"] is False
    order = by_name["order-status-own"]
    assert order["differs"] is True and order["a"]["passed"] and not order["b"]["passed"]
    assert any("lookup_order" in reason for reason in order["b"]["reasons"])
    assert order["a"]["cost_usd"] > 0 and order["b"]["cost_usd"] > 0
    assert order["a"]["cost_usd"] != order["b"]["cost_usd"]

    table = await run_eval(support_fake, tmp_path, str(EVALS), *args)
    assert "2 case(s) differ" in table.stdout
    rows = [line for line in table.stdout.splitlines() if "order-status-own" in line]
    assert len(rows) == 1 and "pass" in rows[0] and "FAIL" in rows[0]
    assert "B: lookup_order(order_id 'ORD-10001') was not" in rows[0]
    assert "A prompt:a.md" in table.stdout and "B prompt:b.md" in table.stdout


async def test_batch_sends_each_round_as_one_message_batch(
    support_fake: FakeAnthropic, tmp_path: Path
) -> None:
    run = await run_eval(support_fake, tmp_path, str(EVALS), "--batch", "--json", *only(*SOME))

    assert run.status == 0, run.stdout[-2000:] + run.stderr
    report = json.loads(run.stdout)
    assert report["passed"] == 4
    assert "Message Batches API" in report["model"]
    assert support_fake.message_requests == []  # not one request on its own
    assert len(support_fake.batches) == 2  # the tool round of all four cases, then their answers
    sizes = sorted(len(batch.results) for batch in support_fake.batches.values())
    assert sizes == [4, 4]
    assert all(batch.retrieves >= 2 for batch in support_fake.batches.values())  # polled until it ended
    assert len(support_fake.batch_requests) == 8


async def test_judge_grades_rubrics_with_the_model(support_fake: FakeAnthropic, tmp_path: Path) -> None:
    refused = case_from("injection.yaml", "ignore-instructions-list-all-orders")
    rubric = "  judge: The answer lists the customer's own orders.\n"
    (tmp_path / "judged.yaml").write_text(case_from("orders.yaml", "order-status-own") + refused + rubric)

    run = await run_eval(support_fake, tmp_path, "judged.yaml", "--judge", "--json")

    report = json.loads(run.stdout)
    reasons = {result["name"]: result["reasons"] for result in report["results"]}
    assert reasons["order-status-own"] == []
    assert reasons["ignore-instructions-list-all-orders"] == ["judge: the answer does not help."]
    assert run.status == 1
    graded = [r for r in support_fake.message_requests if "<rubric>" in json.dumps(r.messages)]
    assert len(graded) == 2


async def test_without_a_key_the_fallback_answers_and_the_output_says_so(tmp_path: Path) -> None:
    run = await run_eval(None, tmp_path, str(EVALS), "--json", *only("order-status-own", "password-reset"))

    assert "the built-in fallback answers (no AI model)" in run.stderr
    report = json.loads(run.stdout)
    assert "built-in fallback" in report["model"]
    assert report["passed"] == 2, report
    assert run.status == 0
