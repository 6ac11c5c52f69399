"""The REST route table (method, path template, handler of :class:`FakeDiscord`) and a parsed request."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .state import JSON, _as_int
from .validation import ApiError, _invalid_form

# ---------------------------------------------------------------------------------------- routes

_ROUTES: list[tuple[str, str, str]] = [
    # (method, discord.py's route template, handler name)
    ("GET", "/gateway", "_gateway"),
    ("GET", "/gateway/bot", "_gateway_bot"),
    ("GET", "/users/@me", "_get_me"),
    ("POST", "/users/@me/channels", "_create_dm"),
    ("GET", "/users/{user_id}", "_get_user"),
    ("GET", "/oauth2/applications/@me", "_get_application"),
    ("GET", "/applications/@me", "_get_application"),
    ("GET", "/applications/{application_id}/commands", "_get_commands"),
    ("PUT", "/applications/{application_id}/commands", "_put_commands"),
    ("POST", "/applications/{application_id}/commands", "_post_command"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", "_get_commands"),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", "_put_commands"),
    ("POST", "/applications/{application_id}/guilds/{guild_id}/commands", "_post_command"),
    ("GET", "/guilds/{guild_id}", "_get_guild"),
    ("GET", "/guilds/{guild_id}/channels", "_get_guild_channels"),
    ("GET", "/guilds/{guild_id}/threads/active", "_get_active_threads"),
    ("GET", "/guilds/{guild_id}/members/{user_id}", "_get_member"),
    ("GET", "/channels/{channel_id}", "_get_channel"),
    ("PATCH", "/channels/{channel_id}", "_patch_channel"),
    ("GET", "/channels/{channel_id}/messages", "_get_messages"),
    ("POST", "/channels/{channel_id}/messages", "_post_message"),
    ("GET", "/channels/{channel_id}/messages/{message_id}", "_get_message"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", "_patch_message"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}", "_delete_message"),
    ("POST", "/channels/{channel_id}/messages/{message_id}/threads", "_thread_from_message"),
    ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", "_add_reaction"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", "_remove_reaction"),
    ("POST", "/channels/{channel_id}/threads", "_create_thread"),
    ("POST", "/channels/{channel_id}/typing", "_trigger_typing"),
    ("PUT", "/channels/{channel_id}/thread-members/@me", "_join_thread"),
    ("POST", "/interactions/{webhook_id}/{webhook_token}/callback", "_interaction_callback"),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", "_get_original"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", "_edit_original"),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", "_delete_original"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}", "_post_followup"),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "_get_followup"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "_edit_followup"),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "_delete_followup"),
]

_NO_AUTH_PREFIXES = ("/interactions/", "/webhooks/")
# Interaction type -> the callback types Discord accepts for it.
_CALLBACK_TYPES: dict[int, frozenset[int]] = {
    2: frozenset({4, 5, 9}),
    3: frozenset({4, 5, 6, 7, 9}),
    4: frozenset({8}),
    5: frozenset({4, 5, 6, 7}),
}
_NO_GLOBAL_LIMIT_PREFIXES = ("/interactions/", "/webhooks/")


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


_COMPILED = [(method, template, _compile(template), handler) for method, template, handler in _ROUTES]


@dataclass
class _Request:
    method: str
    path: str
    route: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[JSON]

    def id(self, name: str) -> int:
        value = _as_int(self.params.get(name))
        if value is None:
            raise ApiError(404, 0, "404: Not Found")
        return value

    @property
    def json(self) -> JSON:
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise _invalid_form(
                {
                    "_errors": [
                        {
                            "code": "DICT_TYPE_CONVERT",
                            "message": "Only dictionaries may be used in a DictType",
                        }
                    ]
                }
            )
        return self.body
