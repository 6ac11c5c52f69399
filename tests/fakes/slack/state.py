"""The fake workspace's records: ids and tokens, users, channels, messages, recorded calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from .blocks import blocks_text

JSON: TypeAlias = dict[str, Any]
ChannelKind: TypeAlias = Literal["channel", "group", "im", "mpim"]

TEAM_ID = "T0FAKE"
TEAM_DOMAIN = "fake-workspace"
TEAM_NAME = "Fake Workspace"
EXTERNAL_TEAM_ID = "T0EXTERNAL"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "supportbot"
APP_ID = "A0FAKEAPP"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-1-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"
VERIFICATION_TOKEN = "fake-verification-token"
GENERAL_CHANNEL_ID = "C0GENERAL"
TS_START = 1_700_000_000.0001


def mention(user_id: str = BOT_USER_ID) -> str:
    """The mention markup Slack puts in message text, ``<@U0BOT>`` for the bot."""
    return f"<@{user_id}>"


# --------------------------------------------------------------------------------------------------
# workspace model


@dataclass
class FakeUser:
    id: str
    name: str
    real_name: str
    display_name: str
    team_id: str
    is_bot: bool = False
    bot_id: str | None = None
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_stranger: bool = False
    is_admin: bool = False
    deleted: bool = False
    email: str | None = None
    tz: str = "Europe/London"
    enterprise_id: str | None = None
    """The user's Enterprise Grid organisation (``users.info`` then carries ``enterprise_user``)."""

    def is_external(self, workspace_team_id: str) -> bool:
        """A Slack Connect user from another organisation."""
        return self.is_stranger or self.team_id != workspace_team_id

    def to_api(self) -> JSON:
        profile: JSON = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "team": self.team_id,
            "image_48": f"https://avatars.example/{self.id}_48.png",
        }
        if self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = APP_ID if self.bot_id == BOT_ID else ""
        user: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_offset": 0,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        if self.is_stranger:
            user["is_stranger"] = True
        if self.enterprise_id is not None:
            user["enterprise_user"] = {
                "id": self.id,
                "enterprise_id": self.enterprise_id,
                "enterprise_name": "Fake Org",
                "is_admin": False,
                "is_owner": False,
                "teams": [self.team_id],
            }
        return user


@dataclass(frozen=True)
class FakeFile:
    """A file uploaded to the workspace (served by the fake's file host, see ``files``)."""

    id: str
    name: str
    mimetype: str
    filetype: str
    data: bytes
    user: str
    size_claimed: int | None = None
    """The ``size`` Slack reports, when a test wants it to differ from the bytes."""

    @property
    def size(self) -> int:
        return self.size_claimed if self.size_claimed is not None else len(self.data)


@dataclass
class FakeMessage:
    """The current state of one message in the fake workspace."""

    channel: str
    ts: str
    text: str
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    thread_ts: str | None = None
    subtype: str | None = None
    team: str | None = None
    edited: JSON | None = None
    reply_broadcast: bool = False
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    metadata: JSON | None = None
    files: list[FakeFile] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    deleted: bool = False
    update_count: int = 0
    versions: list[str] = field(default_factory=list)
    """The visible text after the post and after every successful edit, oldest first."""

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_from_bot(self) -> bool:
        return self.bot_id == BOT_ID

    @property
    def visible_text(self) -> str:
        """What a person sees: the blocks' text when there are blocks, else ``text``."""
        return blocks_text(self.blocks) if self.blocks else self.text


@dataclass
class FakeChannel:
    id: str
    name: str
    kind: ChannelKind = "channel"
    is_ext_shared: bool = False
    is_archived: bool = False
    bot_is_member: bool = True
    members: set[str] | None = None
    """None: everybody may be addressed in it (``chat.postEphemeral`` checks membership otherwise)."""
    im_user: str | None = None
    messages: dict[str, FakeMessage] = field(default_factory=dict)
    team_id: str | None = None
    """The workspace the channel belongs to (None: the fake's own ``team_id``)."""

    @property
    def channel_type(self) -> ChannelKind:
        """The ``channel_type`` of message events in this conversation."""
        return self.kind

    def to_api(self, team_id: str) -> JSON:
        if self.kind == "im":
            return {
                "id": self.id,
                "created": 1_700_000_000,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": team_id,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": self.kind == "channel",
            "is_group": self.kind == "group",
            "is_im": False,
            "is_mpim": self.kind == "mpim",
            "is_private": self.kind != "channel",
            "created": 1_700_000_000,
            "is_archived": self.is_archived,
            "is_general": self.id == GENERAL_CHANNEL_ID,
            "name_normalized": self.name,
            "is_shared": self.is_ext_shared,
            "is_ext_shared": self.is_ext_shared,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "context_team_id": team_id,
            "is_member": self.bot_is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class Ephemeral:
    channel: str
    user: str | None
    text: str
    blocks: list[JSON] | None
    thread_ts: str | None
    via: Literal["chat.postEphemeral", "response_url"]
    message_ts: str | None = None

    @property
    def visible_text(self) -> str:
        return blocks_text(self.blocks) if self.blocks else self.text


@dataclass
class AssistantStatus:
    channel_id: str
    thread_ts: str
    status: str
    time: float


@dataclass
class RecordedCall:
    """One request the fake received, with what it answered."""

    method: str
    args: JSON
    time: float
    """The fake's (rate-limiter) clock when the request arrived."""
    wall_time: float
    http_method: str
    content_type: str
    token: str | None
    status: int = 0
    response: JSON = field(default_factory=dict)
    injected: bool = False
    """Answered by a failure from :meth:`FakeSlack.fail_next`."""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass
class ResponseUrlPost:
    url_id: str
    body: JSON
    time: float


@dataclass
class UserPost:
    """A human message stored by :meth:`FakeSlack.post_as_user`, with the events Slack would send."""

    ts: str
    message_event: JSON
    app_mention_event: JSON | None

    @property
    def event(self) -> JSON:
        """The event a bot acts on: ``app_mention`` for a channel mention, else the ``message`` event."""
        return self.app_mention_event if self.app_mention_event is not None else self.message_event


@dataclass
class _Failure:
    status: int
    body: JSON
    retry_after: int | None
    delay: float
    apply: bool
    remaining: int


@dataclass
class _ResponseUrl:
    channel_id: str | None
    user_id: str | None
    message_ts: str | None
    posts: list[JSON] = field(default_factory=list)
