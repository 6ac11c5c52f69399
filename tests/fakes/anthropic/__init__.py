"""A fake Anthropic Messages API on 127.0.0.1, for end-to-end tests that run the real ``anthropic`` SDK.

The real ``anthropic.AsyncAnthropic`` talks to it through ``base_url``; nothing in the SDK is patched.

    async with FakeAnthropic() as fake:           # or the ``fake_anthropic`` pytest fixture
        fake.script(
            Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"}), text="Let me check."),
            Reply.text("Your order has shipped."),
        )
        client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test")
        ...
        assert fake.validation_errors == []
        assert fake.message_requests[1].body["messages"][-1]["content"][0]["type"] == "tool_result"

Each ``POST /v1/messages`` takes the next scripted :class:`Reply` (or, once the script is used up, asks
the ``responder`` callable for one). ``"stream": true`` is answered with the server-sent events the API
sends (``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``,
``content_block_stop``, ``message_delta``, ``message_stop``, ``error``); otherwise with a JSON Message.

Usage not scripted is estimated: input from the request's size (bytes / 4), output from the reply's; with
the prompt cache modelled (:class:`PromptCache`, on by default), the input a cached prefix covers is
reported as ``cache_read_input_tokens`` and the newly cached part as ``cache_creation_input_tokens``.

Every request is recorded (:attr:`FakeAnthropic.requests`) and validated the way the API validates it;
a request the API would refuse is answered with 400 ``invalid_request_error`` (401
``authentication_error`` without credentials) and its problems are kept in
:attr:`FakeAnthropic.validation_errors`. A request that finds no scripted reply is answered with 500
``fake anthropic: no scripted reply left`` and counted in :attr:`FakeAnthropic.unscripted_requests`.

The ``fake_anthropic`` pytest fixture yields a started fake and, at teardown, fails the test if any request
was invalid or unscripted (``fake_anthropic.strict = False`` in tests that provoke that on purpose). To use
it everywhere, import it in ``tests/conftest.py``: ``from fakes.anthropic import fake_anthropic``
(``tests/`` has no ``__init__.py``, so pytest puts ``tests/`` on ``sys.path`` and the package is ``fakes``).

Two things about the SDK (2.12) worth knowing when scripting:

* it sends the API key as ``Authorization: Bearer <key>``, not ``x-api-key``; the fake accepts either;
* it treats ``retry-after: 0`` as "no hint" and then backs off 0.5 s to 8 s, so ``Reply.status(...,
  retry_after=0)`` also sends ``retry-after-ms: 1`` (which the SDK reads first) to keep retries instant.

The Message Batches API (``client.messages.batches.create/retrieve/results/cancel``) is there too
(``batches``): a batch's requests are answered from the same script or responder when it is created, kept
in :attr:`FakeAnthropic.batch_requests` (never in :attr:`FakeAnthropic.message_requests`), and handed out
as JSON Lines once the batch has ended (after ``fake.batch_polls`` retrieves that say ``in_progress``).

Where each part lives (import from the package): ``server`` (:class:`FakeAnthropic`, the fixture),
``batches`` (the Message Batches routes, :class:`FakeBatch`), ``replies`` (:class:`Reply` and its
rendering), ``validation`` (the request checks; ``media``: image and document blocks), ``cache``
(:class:`PromptCache`), ``recorded`` (:class:`RecordedRequest`), ``wire`` (error types and bodies).
"""

from .batches import FakeBatch
from .cache import CacheUse, PromptCache
from .recorded import RecordedRequest, Responder
from .replies import Reply, ReplyOptions, TextOut, ToolCall, Usage
from .server import FakeAnthropic, fake_anthropic
from .validation import validate_messages_request
from .wire import ACCEPTED_BLOCK_TYPES, MAX_CACHE_BREAKPOINTS, NO_SCRIPTED_REPLY

__all__ = [
    "ACCEPTED_BLOCK_TYPES",
    "MAX_CACHE_BREAKPOINTS",
    "NO_SCRIPTED_REPLY",
    "CacheUse",
    "FakeAnthropic",
    "FakeBatch",
    "PromptCache",
    "RecordedRequest",
    "Reply",
    "ReplyOptions",
    "Responder",
    "TextOut",
    "ToolCall",
    "Usage",
    "fake_anthropic",
    "validate_messages_request",
]
