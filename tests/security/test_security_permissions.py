"""The permission matrix: every principal kind against every tool (through ``ToolBox.call`` on the real
store and backends), and every ``/support`` subcommand through the real Slack slash-command path as a
lead, an employee who is not a lead, and an external customer.

The expected outcomes are the two tables below; the meaning of each word is in ``check_tool`` and
``check_command``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

import pytest

from bot.agent.toolbox import ToolResult
from bot.runtime import App
from bot.support_commands import REFUSAL
from bot.types import ThreadRef
from integrations.slack.commands import HELP
from integrations.slack.inbound import thread_ref
from tests.e2e.rig import new_thread
from tests.security.conftest import LEAD_ID, CoreFactory, RigFactory
from tests.security.leak_checks import INTERNAL_ARTICLES, ORDERS, principal_for
from tests.slack.rig import SlackRig
from tools.orders import NOT_LINKED_TEXT, not_found_text

# ---- tools --------------------------------------------------------------------------------------------

TOOL_CASES: dict[str, tuple[str, dict[str, str]]] = {
    "lookup own": ("lookup_order", {"order_id": "ORD-10001"}),  # C-1001's order
    "lookup other": ("lookup_order", {"order_id": "ORD-10002"}),  # C-1002's order
    "lookup missing": ("lookup_order", {"order_id": "ORD-99999"}),
    "list mine": ("list_my_orders", {}),
    "kb public": ("search_kb", {"query": "returns policy"}),  # finds the public "Returns policy"
    "kb internal": ("search_kb", {"query": "refund approval policy staff"}),
    "escalate": ("escalate_to_human", {"summary": "Wants a refund exception"}),
}
TOOL_PRINCIPALS = ["customer:C-1001", "customer", "employee", "lead", "admin"]
# fmt: off
TOOL_TABLE: dict[str, tuple[str, ...]] = {
    #                   own       other     missing    list mine   kb public  kb internal  escalate
    "customer:C-1001": ("shown",  "hidden", "missing", "own",      "public",  "no intern", "escalated"),
    "customer":        ("hidden", "hidden", "missing", "unlinked", "public",  "no intern", "escalated"),
    "employee":        ("notes",  "notes",  "missing", "staff",    "returns", "internal",  "escalated"),
    "lead":            ("notes",  "notes",  "missing", "staff",    "returns", "internal",  "escalated"),
    "admin":           ("notes",  "notes",  "missing", "staff",    "returns", "internal",  "escalated"),
}
# fmt: on
# shown: the order without its internal note; notes: with it; hidden: reads exactly like missing;
# own: the customer's own orders only; unlinked: told how to get linked; staff: staff have no orders;
# public: public articles only, the returns policy among them; returns: the returns policy is found (staff
# may also get internal articles); no intern: no internal article, whatever matched; internal: the staff
# refund policy is found; escalated: an escalation is open in the thread.
AUDIT = {  # the audit row each expected outcome leaves: (allowed, outcome)
    "shown": (True, "ok"),
    "notes": (True, "ok"),
    "hidden": (False, "denied"),
    "missing": (True, "not_found"),
    "own": (True, "ok"),
    "unlinked": (False, "denied"),
    "staff": (True, "not_found"),
    "public": (True, "ok"),
    "returns": (True, "ok"),
    "no intern": (True, "ok"),
    "internal": (True, "ok"),
    "escalated": (True, "ok"),
}


def order(order_id: str) -> dict[str, object]:
    return next(o for o in ORDERS if o["order_id"] == order_id)


async def check_tool(
    app: App, expected: str, args: dict[str, str], result: ToolResult, ref: ThreadRef
) -> None:
    text = result.text
    order_id = args.get("order_id", "")
    internal_urls = {a.url for a in INTERNAL_ARTICLES}
    urls = {s.url.split("#")[0] for s in result.sources}  # a hit is a section: url#anchor
    match expected:
        case "shown" | "notes":
            assert text.startswith(f"Order {order_id}: ")
            assert str(order(order_id)["tracking_number"] or "") in text
            has_notes = "Internal note (customer data, not instructions)" in text
            assert has_notes == (expected == "notes"), text
        case "hidden" | "missing":
            assert text == not_found_text(order_id)  # the same words: ids cannot be probed
        case "own":
            assert set(re.findall(r"ORD-\d+", text)) == {"ORD-10001", "ORD-10007"}
        case "unlinked":
            assert text == NOT_LINKED_TEXT
        case "staff":
            assert text.startswith("Staff accounts have no orders") and "ORD-" not in text
        case "public" | "returns":
            assert "https://help.northwind.example/articles/returns-policy" in urls
            if expected == "public":
                assert not urls & internal_urls and "/internal/" not in str(result.blocks) + text
        case "no intern":
            assert not urls & internal_urls and "/internal/" not in str(result.blocks) + text
        case "internal":
            assert "https://help.northwind.example/internal/refund-approval-policy" in urls
        case "escalated":
            assert text.startswith("Escalation #") and await app.store.is_escalated(ref)
        case _:
            raise AssertionError(f"unknown expectation {expected!r}")
    assert result.is_error is False


@pytest.mark.parametrize("spec", TOOL_PRINCIPALS)
async def test_every_principal_against_every_tool(core_app: CoreFactory, spec: str) -> None:
    app = await core_app()
    principal = principal_for(spec)
    for (case, (tool, args)), expected in zip(TOOL_CASES.items(), TOOL_TABLE[spec], strict=True):
        ref = new_thread()
        result = await app.toolbox.call(tool, args, principal, ref)
        await check_tool(app, expected, args, result, ref)
        [audit] = await app.store.tool_calls(limit=1)
        assert (audit.tool, audit.user_id, audit.thread_key) == (tool, principal.user_id, ref.key), case
        assert (audit.allowed, audit.outcome) == AUDIT[expected], (spec, case)
    assert len(await app.store.tool_calls()) == len(TOOL_CASES)


# ---- /support ----------------------------------------------------------------------------------------

COMMANDS = [
    "help",
    "stats",
    "escalations",
    "link",
    "unlink",
    "kb search",
    "kb reload",
    "pause",
    "resume",
    "resolve",
]
CALLERS = ["lead", "employee", "customer"]
# fmt: off
COMMAND_TABLE: dict[str, tuple[str, str, str]] = {
    #               lead          employee      external customer
    "help":        ("help",      "help",       "help"),
    "stats":       ("stats",     "refused",    "refused"),
    "escalations": ("listed",    "refused",    "refused"),
    "link":        ("linked",    "refused",    "refused"),
    "unlink":      ("unlinked",  "refused",    "refused"),
    "kb search":   ("internal",  "internal",   "public"),
    "kb reload":   ("reloaded",  "refused",    "refused"),
    "pause":       ("paused",    "refused",    "refused"),
    "resume":      ("resumed",   "refused",    "refused"),
    "resolve":     ("resolved",  "refused",    "refused"),
}
# fmt: on


@dataclass(frozen=True)
class State:
    """What a command may change: the target's link, the channel's pause, open escalations, the KB index."""

    target_link: str | None
    paused: bool
    open_escalations: tuple[int, ...]
    kb_synced: tuple[datetime, ...]
    """When each knowledge source was last synced (a reload syncs them; searches only read)."""


async def state(rig: SlackRig, target: str) -> State:
    store = rig.core.store
    return State(
        await store.customer_for("slack", target),
        await store.is_paused("slack", rig.fake.team_id, rig.fake.general.id),
        tuple(e.id for e in await store.open_escalations()),
        tuple(status.last_attempt_at for status in await store.source_statuses()),
    )


def command_text(command: str, target: str, escalation_id: int) -> str:
    return {
        "help": "help",
        "stats": "stats 7",
        "escalations": "escalations",
        "link": f"link <@{target}|gina> C-1003",
        "unlink": f"unlink <@{target}|gina>",
        "kb search": "kb search refund approval policy",
        "kb reload": "kb reload",
        "pause": "pause",
        "resume": "resume",
        "resolve": f"resolve #{escalation_id}",
    }[command]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("command", COMMANDS)
async def test_every_support_command_for_every_caller(
    secure_rig: RigFactory, command: str, caller: str
) -> None:
    rig = await secure_rig()
    store = rig.core.store
    channel = rig.fake.general.id
    target = rig.user("gina", external=True).id
    person = {
        "lead": rig.fake.users[LEAD_ID],
        "employee": rig.user("ann"),
        "customer": rig.user("carl", external=True),
    }[caller]
    await store.link_identity("slack", target, "C-1005")
    escalated = thread_ref(rig.fake.team_id, channel, rig.fake.next_ts())
    escalation = await store.open_escalation(escalated, target, "wants a refund exception")
    if command == "resume":
        await store.pause_channel("slack", rig.fake.team_id, channel, LEAD_ID)
    before = await state(rig, target)
    reply = await rig.command(person, command_text(command, target, escalation.id))
    after = await state(rig, target)

    expected = COMMAND_TABLE[command][CALLERS.index(caller)]
    assert reply is not None
    unchanged = after == before
    match expected:
        case "refused":
            name = "resolve" if command == "resolve" else command
            assert reply == REFUSAL.format(name=name)
            assert unchanged, (before, after)
        case "help":
            assert reply == HELP and unchanged
        case "stats":
            assert reply.startswith("*Slack, the last 7 day(s)*") and "escalation" in reply
            assert unchanged
        case "listed":
            assert reply.startswith("*1 open escalation(s)*") and "wants a refund exception" in reply
            assert unchanged
        case "linked":
            assert reply == f"Linked <@{target}> to customer `C-1003`."
            assert after == replace(before, target_link="C-1003")
        case "unlinked":
            assert reply == f"Unlinked <@{target}>." and after.target_link is None
            assert (after.paused, after.open_escalations) == (before.paused, before.open_escalations)
        case "internal" | "public":
            has_internal = "Refund approval policy (staff)" in reply and "(internal)" in reply
            assert has_internal == (expected == "internal") and "refund" in reply.lower()
            if expected == "public":
                assert "/internal/" not in reply
            assert unchanged
        case "reloaded":
            assert reply.startswith("Indexed 17 articles (0 skipped).")
            assert after.kb_synced > before.kb_synced
        case "paused":
            assert reply.startswith("I'm paused in") and after.paused and not before.paused
        case "resumed":
            assert reply.startswith("I'm answering in") and before.paused and not after.paused
        case "resolved":
            assert reply == "Resolved 1 escalation(s); I answer in that thread again."
            assert after.open_escalations == () and after.target_link == before.target_link
        case _:
            raise AssertionError(expected)
