"""Building Messages API messages from a thread's turns."""

from datetime import UTC, datetime

from bot.agent.messages import turns_to_messages, with_cache_breakpoint
from bot.types import Turn

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def user(text: str, author: str = "Ada") -> Turn:
    return Turn("user", author, text, f"m-{text}", NOW)


def bot(text: str) -> Turn:
    return Turn("assistant", "bot", text, f"b-{text}", NOW)


def test_user_turns_carry_their_author_and_roles_alternate() -> None:
    messages = turns_to_messages([user("hi"), user("anyone?", "Bob"), bot("hello"), user("thanks")])
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert [b["text"] for b in messages[0]["content"]] == ["Ada: hi", "Bob: anyone?"]


def test_history_starts_with_a_user_message_and_skips_empty_turns() -> None:
    messages = turns_to_messages([bot("welcome"), user("   "), user("question")])
    assert messages == [{"role": "user", "content": [{"type": "text", "text": "Ada: question"}]}]


EXCHANGE = (
    {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "lookup_order", "input": {}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "shipped"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "It shipped."}]},
)


def test_a_bot_turn_with_tools_replays_its_exchange_to_the_person_it_answered() -> None:
    answered = Turn("assistant", "bot", "It shipped.", "b1", NOW, EXCHANGE, answered_for="U-ada")
    messages = turns_to_messages([user("where?"), answered, user("thanks")], viewer="U-ada")
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"][0]["type"] == "tool_use"
    assert messages[2]["content"][0]["type"] == "tool_result"


def test_someone_else_in_the_thread_sees_only_the_visible_answer() -> None:
    answered = Turn("assistant", "bot", "It shipped.", "b1", NOW, EXCHANGE, answered_for="U-ada")
    for viewer in ("U-bob", None):
        messages = turns_to_messages([user("where?"), answered, user("mine?", "Bob")], viewer=viewer)
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        assert messages[1]["content"] == [{"type": "text", "text": "It shipped."}]
        assert all(b["type"] == "text" for m in messages for b in m["content"])


def test_cache_breakpoint_goes_on_a_copy_of_the_last_block() -> None:
    messages = turns_to_messages([user("one"), bot("two"), user("three")])
    marked = with_cache_breakpoint(messages)
    assert marked[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in messages[-1]["content"][-1]
    assert sum("cache_control" in b for m in marked for b in m["content"]) == 1
