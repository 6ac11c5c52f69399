"""Where a lead opens a thread: a web link built from the thread's key alone (pure), for what lists threads
outside a chat (``supportbot gaps``, the leads' dashboard) where no platform call can ask for a permalink."""

from __future__ import annotations

from bot.types import ThreadRef

SLACK_WEB = "https://app.slack.com/client"
DISCORD_WEB = "https://discord.com/channels"


def thread_url(ref: ThreadRef) -> str | None:
    """Where a lead opens the thread: Slack's web client (which hands over to the app) or Discord's; None
    for a thread that lives nowhere else (the console)."""
    if ref.platform == "slack":
        if ref.thread_id == "dm":  # a direct message with the bot: its channel
            return f"{SLACK_WEB}/{ref.space_id}/{ref.channel_id}"
        return f"{SLACK_WEB}/{ref.space_id}/{ref.channel_id}/thread/{ref.channel_id}-{ref.thread_id}"
    if ref.platform == "discord":
        return f"{DISCORD_WEB}/{ref.space_id}/{ref.thread_id}"
    return None


__all__ = ["DISCORD_WEB", "SLACK_WEB", "thread_url"]
