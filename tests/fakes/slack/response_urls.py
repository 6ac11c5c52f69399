"""``response_url`` endpoints for slash commands and interactions."""

from __future__ import annotations

import json
import uuid

from aiohttp import web

from .state import APP_ID, BOT_ID, BOT_USER_ID, JSON, Ephemeral, FakeMessage, ResponseUrlPost, _ResponseUrl


class ResponseUrls:
    """``response_url``: where an app answers a slash command or an interaction."""

    # ---------------------------------------------------------------- response_url

    def new_response_url(
        self,
        *,
        channel_id: str | None = None,
        user_id: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """A ``response_url`` (slash command or interaction) served by this fake."""
        url_id = uuid.uuid4().hex[:16]
        self._response_urls[url_id] = _ResponseUrl(channel_id, user_id, message_ts)
        return f"{self.base_url}/response/{url_id}"

    def response_posts(self, url: str | None = None) -> list[JSON]:
        """What the app posted to ``url`` (or to any response_url), oldest first."""
        url_id = url.rstrip("/").rsplit("/", 1)[-1] if url else None
        return [p.body for p in self.response_url_posts if url_id is None or p.url_id == url_id]

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        target = self._response_urls.get(url_id)
        if target is None:
            return web.json_response({"ok": False, "error": "no_such_url"}, status=404)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        if len(target.posts) >= 5:  # Slack allows five uses of one response_url
            return web.json_response({"ok": False, "error": "used_url"}, status=404)
        target.posts.append(body)
        self.response_url_posts.append(ResponseUrlPost(url_id, body, self._clock()))
        self._apply_response(target, body)
        self._notify()
        return web.json_response({"ok": True})

    def _apply_response(self, target: _ResponseUrl, body: JSON) -> None:
        channel = self.channels.get(target.channel_id or "")
        text = str(body.get("text") or "")
        raw_blocks = body.get("blocks")
        blocks = raw_blocks if isinstance(raw_blocks, list) and raw_blocks else None
        original = channel.messages.get(target.message_ts or "") if channel is not None else None
        if body.get("delete_original") and original is not None:
            original.deleted = True
        elif body.get("replace_original") and original is not None:
            original.text, original.blocks = text, blocks
            original.edited = {"user": BOT_USER_ID, "ts": self.next_ts()}
            original.versions.append(original.visible_text)
        elif body.get("response_type") == "in_channel" and channel is not None:
            thread_ts = body.get("thread_ts")
            self._store(
                FakeMessage(
                    channel=channel.id,
                    ts=self.next_ts(),
                    text=text,
                    user=BOT_USER_ID,
                    bot_id=BOT_ID,
                    app_id=APP_ID,
                    blocks=blocks,
                    thread_ts=thread_ts if isinstance(thread_ts, str) else None,
                    team=self.team_id,
                )
            )
        else:
            self.ephemerals.append(
                Ephemeral(
                    channel=target.channel_id or "",
                    user=target.user_id,
                    text=text,
                    blocks=blocks,
                    thread_ts=None,
                    via="response_url",
                )
            )
