"""Which model errors switch the model off (docs/architecture.md §7): only availability errors count toward
the circuit
breaker. A request the API refuses (400) fails that one answer with a short notice; a key, billing, model
name or URL the API refuses (401, 402, 403, 404) is an operator error: the fallback answers, one ERROR line
names the setting to fix, readiness shows it, and the model is never treated as down."""

from __future__ import annotations

import logging

import pytest
from fakes.anthropic import FakeAnthropic, Reply

from bot.agent.fallback import MODEL_UNAVAILABLE_NOTE
from bot.agent.loop import REJECTED_NOTICE
from bot.run.serve import ModelCheck, Server
from bot.runtime import App
from tests.e2e.rig import ask, new_thread, who

C1001 = who("customer:C-1001")
BAD_IMAGE = "messages.0.content.1.image.source.base64: image exceeds 5 MB maximum"


async def test_requests_refused_in_three_threads_fail_those_answers_only(
    app: App, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.script(*[Reply.status(400, message=BAD_IMAGE)] * 3, Reply.text("The model answers."))

    refused = [await ask(app, C1001, "what is in my picture?", ref=new_thread()) for _ in range(3)]
    after = await ask(app, C1001, "where is my order?", ref=new_thread())

    for seen in refused:
        assert seen.text == f"_{REJECTED_NOTICE}_"
        assert seen.handled.outcome is not None and seen.handled.outcome.failed
    assert after.text == "The model answers."  # not the fallback: the model was not switched off
    assert [r.status for r in fake_anthropic.message_requests] == [400, 400, 400, 200]  # not retried


@pytest.mark.parametrize(
    ("status", "setting"),
    [
        (401, "ANTHROPIC_API_KEY"),
        (402, "billing"),
        (403, "ANTHROPIC_API_KEY"),
        (404, "ANSWER_MODEL"),
    ],
)
async def test_an_operator_error_is_logged_once_shown_in_readiness_and_never_an_outage(
    app: App, fake_anthropic: FakeAnthropic, caplog: pytest.LogCaptureFixture, status: int, setting: str
) -> None:
    caplog.set_level(logging.INFO)
    fake_anthropic.script(*[Reply.status(status)] * 4, Reply.text("The model is back."))
    server = Server(app, [], app.metrics, ModelCheck(app.llm, app.settings.answer_model))

    answers = [await ask(app, C1001, "Where is ORD-10001?", ref=new_thread()) for _ in range(4)]
    _, report = await server.readiness()

    for seen in answers:
        assert MODEL_UNAVAILABLE_NOTE in seen.text and "ORD-10001" in seen.text
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and setting in errors[0], errors
    assert setting in str(report["model_error"])
    assert [r.status for r in fake_anthropic.message_requests] == [status] * 4  # not retried

    back = await ask(app, C1001, "and now?", ref=new_thread())  # the breaker never opened
    assert back.text == "The model is back."
    _, report = await server.readiness()
    assert "model_error" not in report
