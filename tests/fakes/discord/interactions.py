"""REST routes of interactions: callbacks, the original response, follow-ups."""

from __future__ import annotations

import copy
from typing import Any

from .routes import _CALLBACK_TYPES, _Request
from .state import JSON, FakeInteraction, FakeMessage, InteractionResponse, MessageFlag, _as_int
from .validation import ApiError, _field_error, _invalid_form


class InteractionRoutes:
    """Interactions: callbacks, the original response and follow-ups through the webhook routes."""

    # ------------------------------------------------------------------ REST: interactions

    def _record_response(
        self,
        interaction: FakeInteraction,
        kind: str,
        ctype: int | None,
        body: Any,
        status: int,
        message_id: int | None,
    ) -> None:
        interaction.responses.append(
            InteractionResponse(kind, ctype, copy.deepcopy(body), status, message_id, self._clock())
        )

    async def _interaction_callback(self, req: _Request) -> tuple[int, Any]:
        interaction = self._interactions.get(req.id("webhook_id"))
        if interaction is None or interaction.token != req.params["webhook_token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        body = req.json
        ctype = body.get("type")
        try:
            if interaction.callback_type is not None:
                raise ApiError(400, 40060, "Interaction has already been acknowledged.")
            if self._clock() - interaction.created_at > self.limits.interaction_deadline:
                raise ApiError(404, 10062, "Unknown interaction")
            status, payload = await self._answer_interaction(interaction, ctype, body, req)
        except ApiError as error:
            self._record_response(
                interaction, "callback", ctype if isinstance(ctype, int) else None, body, error.status, None
            )
            raise
        return status, payload

    async def _answer_interaction(
        self, interaction: FakeInteraction, ctype: Any, body: JSON, req: _Request
    ) -> tuple[int, Any]:
        valid = _CALLBACK_TYPES.get(interaction.type, frozenset())
        if ctype not in valid:
            raise _invalid_form(
                {
                    "type": _field_error(
                        "INTERACTION_RESPONSE_TYPE_INVALID", "Interaction response type is invalid"
                    )
                }
            )
        data = body.get("data") or {}
        channel = self.channels[interaction.channel_id]
        message: FakeMessage | None = None
        message_type = 20 if interaction.type == 2 else 0
        if ctype == 4:
            ephemeral = (_as_int(data.get("flags")) or 0) & MessageFlag.EPHEMERAL
            message = await self._create_message(
                channel,
                self.bot_user,
                data,
                req.files,
                flags_allowed=MessageFlag.SETTABLE_ON_CREATE | MessageFlag.EPHEMERAL,
                extra_flags=ephemeral,
                message_type=message_type,
                webhook=True,
                interaction=interaction,
                error_prefix=["data"],
            )
            interaction.original_message_id = message.id
        elif ctype == 5:
            ephemeral = (_as_int(data.get("flags")) or 0) & MessageFlag.EPHEMERAL
            message = await self._create_message(
                channel,
                self.bot_user,
                {},
                [],
                extra_flags=MessageFlag.LOADING | ephemeral,
                message_type=message_type,
                webhook=True,
                interaction=interaction,
            )
            interaction.original_message_id = message.id
            interaction.awaiting_first_followup = True
        elif ctype in (6, 7):
            target = self._message_index.get(interaction.message_id or 0)
            if target is None or target.deleted:
                raise ApiError(404, 10008, "Unknown Message")
            interaction.original_message_id = target.id
            if ctype == 7:
                message = await self._edit_message(target, data, req.files, editor=target.author)
        interaction.callback_type = int(ctype)
        self._record_response(interaction, "callback", int(ctype), body, 200, message.id if message else None)
        if req.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        result: JSON = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "activity_instance_id": None,
                "response_message_id": None if message is None else str(message.id),
                "response_message_loading": ctype == 5,
                "response_message_ephemeral": bool(message is not None and message.ephemeral),
            }
        }
        if message is not None:
            result["resource"] = {"type": ctype, "message": self.message_json(message)}
        elif ctype in (8, 9):
            result["resource"] = {"type": ctype}
        return 200, result

    def _webhook_interaction(self, req: _Request) -> FakeInteraction:
        if req.id("webhook_id") != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        interaction = self._interactions_by_token.get(req.params["webhook_token"])
        if interaction is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        if self._clock() - interaction.created_at > self.limits.interaction_token_ttl:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return interaction

    def _original(self, interaction: FakeInteraction) -> FakeMessage:
        if interaction.original_message_id is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        msg = self._message_index[interaction.original_message_id]
        if msg.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def _get_original(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        return 200, self.message_json(self._original(interaction))

    async def _edit_original(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        try:
            msg = self._original(interaction)
            await self._edit_message(msg, req.json, req.files, editor=msg.author)
        except ApiError as error:
            self._record_response(interaction, "edit_original", None, req.body, error.status, None)
            raise
        interaction.awaiting_first_followup = False
        self._record_response(interaction, "edit_original", None, req.body, 200, msg.id)
        return 200, self.message_json(msg)

    async def _delete_original(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        msg = self._original(interaction)
        await self._delete(msg)
        self._record_response(interaction, "delete_original", None, None, 204, msg.id)
        return 204, None

    async def _post_followup(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        body = req.json
        try:
            if interaction.callback_type is None:
                raise ApiError(404, 10015, "Unknown Webhook")
            if interaction.awaiting_first_followup and interaction.original_message_id is not None:
                msg = self._message_index[interaction.original_message_id]
                # The "thinking…" message becomes the answer; of the flags, only SUPPRESS_EMBEDS is taken.
                await self._edit_message(msg, body, req.files, editor=msg.author)
                interaction.awaiting_first_followup = False
            else:
                channel = self.channels[interaction.channel_id]
                ephemeral = (_as_int(body.get("flags")) or 0) & MessageFlag.EPHEMERAL
                msg = await self._create_message(
                    channel,
                    self.bot_user,
                    body,
                    req.files,
                    flags_allowed=MessageFlag.SETTABLE_ON_CREATE | MessageFlag.EPHEMERAL,
                    extra_flags=ephemeral,
                    message_type=20 if interaction.type == 2 else 0,
                    webhook=True,
                    interaction=interaction,
                )
            interaction.followup_ids.append(msg.id)
        except ApiError as error:
            self._record_response(interaction, "followup", None, body, error.status, None)
            raise
        self._record_response(interaction, "followup", None, body, 200, msg.id)
        if req.query.get("wait") in ("1", "true", "True"):
            return 200, self.message_json(msg)
        return 204, None

    def _followup(self, interaction: FakeInteraction, req: _Request) -> FakeMessage:
        message_id = req.id("message_id")
        if message_id not in interaction.followup_ids and message_id != interaction.original_message_id:
            raise ApiError(404, 10008, "Unknown Message")
        msg = self._message_index[message_id]
        if msg.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def _get_followup(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        return 200, self.message_json(self._followup(interaction, req))

    async def _edit_followup(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        msg = self._followup(interaction, req)
        await self._edit_message(msg, req.json, req.files, editor=msg.author)
        self._record_response(interaction, "edit_followup", None, req.body, 200, msg.id)
        return 200, self.message_json(msg)

    async def _delete_followup(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        msg = self._followup(interaction, req)
        await self._delete(msg)
        self._record_response(interaction, "delete_followup", None, None, 204, msg.id)
        return 204, None
