"""``views.publish``: the Home tab each person sees."""

from __future__ import annotations

import json

from .args import _ApiError, _req_str
from .blocks import validate_blocks
from .state import JSON

MAX_HOME_BLOCKS = 100


class ViewsRoutes:
    """``views.publish``; :attr:`home_views` holds each user's current Home tab."""

    def _views_publish(self, args: JSON) -> JSON:
        user_id = _req_str(args, "user_id")
        if user_id not in self.users:
            raise _ApiError("user_not_found")
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "home":
            raise _ApiError("invalid_arguments")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or len(blocks) > MAX_HOME_BLOCKS:
            raise _ApiError("invalid_arguments")
        errors = validate_blocks(blocks, self.limits)
        if errors:
            raise _ApiError("invalid_blocks", extra={"errors": errors})
        self.home_views[user_id] = view
        return {"view": {"id": f"V{len(self.home_views):08d}", **view}}
