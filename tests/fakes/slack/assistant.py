"""The ``assistant.threads.*`` methods."""

from __future__ import annotations

from .args import _missing, _opt_str, _req_str
from .state import JSON, AssistantStatus


class AssistantRoutes:
    """``assistant.threads.setStatus``."""

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
