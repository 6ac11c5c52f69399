"""REST routes on the application and its commands."""

from __future__ import annotations

import copy
from typing import Any

from .routes import _Request
from .state import _COMMAND_NAME_RE, JSON
from .validation import ApiError, _field_error, _invalid_form, _set_error


class CommandRoutes:
    """The application and its commands."""

    async def _get_application(self, req: _Request) -> tuple[int, Any]:
        return 200, self._application_json()

    def _check_app(self, req: _Request) -> int | None:
        if req.id("application_id") != self.application_id:
            raise ApiError(403, 50001, "Missing Access")
        if "guild_id" in req.params:
            guild_id = req.id("guild_id")
            if guild_id not in self.guilds:
                raise ApiError(403, 50001, "Missing Access")
            return guild_id
        return None

    def _normalise_command(self, raw: Any, guild_id: int | None, index: int, existing: list[JSON]) -> JSON:
        if not isinstance(raw, dict):
            raise _invalid_form(
                {str(index): _field_error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")}
            )
        name = raw.get("name")
        ctype = raw.get("type", 1)
        errors: JSON = {}
        if not isinstance(name, str) or (ctype == 1 and not _COMMAND_NAME_RE.match(name)):
            _set_error(errors, [index, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        description = raw.get("description", "")
        if ctype == 1 and not (isinstance(description, str) and 1 <= len(description) <= 100):
            _set_error(
                errors, [index, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if errors:
            raise _invalid_form(errors)
        old = next((c for c in existing if c["name"] == name and c["type"] == ctype), None)
        command: JSON = {
            "id": old["id"] if old else str(self.ids.next()),
            "application_id": str(self.application_id),
            "version": str(self.ids.next()),
            "default_member_permissions": raw.get("default_member_permissions"),
            "type": ctype,
            "name": name,
            "name_localizations": raw.get("name_localizations"),
            "description": description,
            "description_localizations": raw.get("description_localizations"),
            "dm_permission": raw.get("dm_permission", True),
            "contexts": raw.get("contexts"),
            "integration_types": raw.get("integration_types", [0]),
            "nsfw": raw.get("nsfw", False),
            "options": copy.deepcopy(raw.get("options") or []),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    async def _get_commands(self, req: _Request) -> tuple[int, Any]:
        return 200, copy.deepcopy(self._commands.get(self._check_app(req), []))

    async def _put_commands(self, req: _Request) -> tuple[int, Any]:
        guild_id = self._check_app(req)
        if not isinstance(req.body, list):
            raise _invalid_form(
                {
                    "_errors": [
                        {"code": "LIST_TYPE_CONVERT", "message": "Only iterables may be used in a ListType"}
                    ]
                }
            )
        if len(req.body) > 100:
            raise _invalid_form(
                {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 100 or fewer in length."}]}
            )
        existing = self._commands.get(guild_id, [])
        commands = [self._normalise_command(raw, guild_id, i, existing) for i, raw in enumerate(req.body)]
        self._commands[guild_id] = commands
        self.command_syncs.append((guild_id, copy.deepcopy(req.body)))
        return 200, copy.deepcopy(commands)

    async def _post_command(self, req: _Request) -> tuple[int, Any]:
        guild_id = self._check_app(req)
        existing = self._commands.setdefault(guild_id, [])
        command = self._normalise_command(req.json, guild_id, 0, existing)
        replaced = [c for c in existing if c["id"] == command["id"]]
        for old in replaced:
            existing.remove(old)
        existing.append(command)
        return (200 if replaced else 201), copy.deepcopy(command)
