"""A fake Zendesk Help Center API, and the Support API's ticket creation, on 127.0.0.1, following the
shapes Zendesk documents.

    async with FakeZendesk(email="bot@acme.example", token="…") as fake:
        source = ZendeskSourceConfig(name="help", kind="zendesk", url=fake.base_url).open(base_dir)

``GET /api/v2/help_center[/{locale}]/articles[.json]`` and ``…/sections[.json]``, with cursor pagination
(``page[size]``, answered with ``meta.has_more`` and ``links.next``) or offset pagination (``page``,
``per_page``, 30 by default; ``next_page``, ``count``; the only kind when ``cursor_pagination`` is
False). An unknown locale is 404 ``RecordNotFound``.
Anonymous requests see published, unrestricted articles only; requests with Basic
``{email}/token:{token}`` see everything an agent sees (drafts with ``"draft": true``, articles with a
``user_segment_id``); other credentials are 401 ``Couldn't authenticate you``. ``fail_next(status)``
answers the next request with that status. Every request is recorded in ``requests``.

``POST /api/v2/tickets[.json]`` creates a ticket for an agent (``fakes.zendesk.support``), kept in
``tickets``.

The content (:func:`demo_help_center`): 36 English articles (two pages at the default size), one of them a
draft and two restricted, two German ones, and their sections.
"""

from fakes.zendesk.help_center import FakeArticle, FakeSection, demo_help_center
from fakes.zendesk.server import FakeZendesk, RecordedRequest
from fakes.zendesk.support import FakeTicket

__all__ = ["FakeArticle", "FakeSection", "FakeTicket", "FakeZendesk", "RecordedRequest", "demo_help_center"]
