"""The ``reactions.*`` methods."""

from __future__ import annotations

from .args import _ApiError, _opt_str
from .state import BOT_USER_ID, JSON, FakeMessage


class ReactionsRoutes:
    """``reactions.add`` and ``reactions.remove``."""

    def _reaction_target(self, args: JSON) -> tuple[FakeMessage, str]:
        channel = self._channel(args)
        message = self._live_message(channel, _opt_str(args, "timestamp"))
        name = (_opt_str(args, "name") or "").strip(":")
        if not name:
            raise _ApiError("invalid_name")
        return message, name

    def _reactions_add(self, args: JSON) -> JSON:
        message, name = self._reaction_target(args)
        users = message.reactions.setdefault(name, [])
        if BOT_USER_ID in users:
            raise _ApiError("already_reacted")
        users.append(BOT_USER_ID)
        return {}

    def _reactions_remove(self, args: JSON) -> JSON:
        message, name = self._reaction_target(args)
        users = message.reactions.get(name, [])
        if BOT_USER_ID not in users:
            raise _ApiError("no_reaction")
        users.remove(BOT_USER_ID)
        if not users:
            del message.reactions[name]
        return {}
