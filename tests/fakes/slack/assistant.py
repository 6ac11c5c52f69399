"""The ``assistant.threads.*`` methods."""

from __future__ import annotations

from .args import _ApiError, _json_list, _missing, _opt_str, _req_str
from .state import JSON, AssistantStatus


class AssistantRoutes:
    """``assistant.threads.setStatus``, ``setTitle`` and ``setSuggestedPrompts``."""

    def _assistant_set_status(self, args: JSON) -> JSON:
        channel = self._channel(args, "channel_id")
        thread_ts = _req_str(args, "thread_ts")
        status = _opt_str(args, "status")
        if status is None:
            raise _missing("status")
        self.assistant_statuses.append(AssistantStatus(channel.id, thread_ts, status, self._clock()))
        if status:
            self._current_status[(channel.id, thread_ts)] = status
        else:
            self._current_status.pop((channel.id, thread_ts), None)
        return {}

    def _assistant_set_title(self, args: JSON) -> JSON:
        """``assistant.threads.setTitle``: the title of the thread in the agent view's history."""
        channel = self._channel(args, "channel_id")
        thread_ts = _req_str(args, "thread_ts")
        title = _req_str(args, "title")
        self.assistant_titles[(channel.id, thread_ts)] = title
        return {}

    def _assistant_set_suggested_prompts(self, args: JSON) -> JSON:
        """``assistant.threads.setSuggestedPrompts``: 1 to 4 prompts, each a ``title`` and a ``message``."""
        channel = self._channel(args, "channel_id")
        thread_ts = _req_str(args, "thread_ts")
        prompts = _json_list(args, "prompts", bad_format_error="invalid_arguments")
        if not prompts:
            raise _missing("prompts")
        if len(prompts) > MAX_SUGGESTED_PROMPTS or not all(_is_prompt(p) for p in prompts):
            raise _ApiError("invalid_arguments")
        self.suggested_prompts[(channel.id, thread_ts)] = prompts
        return {}


MAX_SUGGESTED_PROMPTS = 4


def _is_prompt(prompt: object) -> bool:
    return (
        isinstance(prompt, dict)
        and set(prompt) == {"title", "message"}
        and all(isinstance(value, str) and value for value in prompt.values())
    )
