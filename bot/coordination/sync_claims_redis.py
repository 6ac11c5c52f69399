"""Knowledge-source sync claims shared by every instance on one Redis (see ``bot.coordination.sync_claims``).

``claim(key, ttl)`` is ``SET {prefix}sync:{key} 1 NX PX ttl``: one instance wins each interval of each
source. While Redis cannot be reached the claim is this process's own (a warning says so), so a source is
still fetched, perhaps by several instances: the store's replace makes a repeated sync change nothing.
"""

from __future__ import annotations

import logging

from bot.coordination.redis_client import RedisError, SharedRedis, Warner
from bot.coordination.sync_claims import LocalSyncClaims

log = logging.getLogger(__name__)


class RedisSyncClaims:
    def __init__(self, shared: SharedRedis) -> None:
        self._shared = shared
        self._local = LocalSyncClaims()
        self._warner = Warner(log)

    async def claim(self, key: str, ttl: float) -> bool:
        try:
            return await self._shared.set_nx(
                self._shared.key("sync", key), "1", ttl_ms=max(1, int(ttl * 1000))
            )
        except RedisError as exc:
            self._warner.warn("sync", "Redis unreachable for source sync claims (%s); claiming locally", exc)
            return await self._local.claim(key, ttl)


__all__ = ["RedisSyncClaims"]
