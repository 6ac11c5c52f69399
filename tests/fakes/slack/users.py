"""The ``users.*`` and ``usergroups.*`` methods."""

from __future__ import annotations

from .args import _ApiError, _req_str
from .state import JSON


class UsersRoutes:
    """``users.info`` and ``usergroups.users.list``."""

    def _users_info(self, args: JSON) -> JSON:
        user = self.users.get(_req_str(args, "user"))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": user.to_api()}

    def _usergroups_users_list(self, args: JSON) -> JSON:
        group = _req_str(args, "usergroup")
        if group not in self.usergroups:
            raise _ApiError("no_such_subteam")
        return {"users": list(self.usergroups[group])}
