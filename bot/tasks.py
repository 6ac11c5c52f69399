"""Work started by a platform event and carried on after it was acknowledged (docs/architecture.md §4 step 1).

Slack wants an answer within 3 s and a Discord interaction must be answered or deferred in 3 s, so the
front ends acknowledge at once and hand the work to a tracked task: its errors are logged, and on shutdown
the front end waits for the tasks still running (a reply that is cancelled at the end still settles its
message).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run ``work`` as a tracked task (returned, for a caller that also waits for it)."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def wait_idle(self) -> None:
        """Until no task runs (tasks started meanwhile included)."""
        await self._idle.wait()

    async def drain(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for the running tasks, then cancel the rest and wait for them."""
        if not self._tasks:
            return
        log.info("waiting up to %.0f s for %d task(s) in progress", grace, len(self._tasks))
        try:
            async with asyncio.timeout(grace):
                await self.wait_idle()
        except TimeoutError:
            remaining = list(self._tasks)
            log.warning("cancelling %d task(s) still running after %.0f s", len(remaining), grace)
            for task in remaining:
                task.cancel()
            await asyncio.gather(*remaining, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)
