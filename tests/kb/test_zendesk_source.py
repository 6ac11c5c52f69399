"""The Zendesk source against the fake Help Center API, through real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.zendesk import FakeZendesk
from pydantic import ValidationError

from bot.errors import ConfigError
from bot.kb.sources.base import Fetched, SourceArticle, SourceError
from bot.kb.sources.config import ZendeskSourceConfig
from bot.kb.sources.zendesk import ZendeskSource

TOKEN_ENV = "ZENDESK_TEST_TOKEN"


def source(fake: FakeZendesk, *, token: str | None = None, **config: object) -> ZendeskSource:
    settings: dict[str, object] = {"name": "help", "kind": "zendesk", "url": fake.base_url, **config}
    if token is not None:
        settings |= {"email": fake.email, "token_env": TOKEN_ENV}
    return ZendeskSourceConfig.model_validate(settings).open(Path("."), {TOKEN_ENV: token} if token else {})


async def fetch(source: ZendeskSource) -> Fetched:
    seen: list[tuple[int, int | None]] = []
    fetched = await source.fetch({}, lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, None) and seen[-1][0] == seen[-1][1] >= len(fetched.articles)
    return fetched


def by_key(fetched: Fetched) -> dict[str, SourceArticle]:
    return {article.key: article for article in fetched.articles}


async def test_anonymous_reads_published_public_articles_over_two_pages(fake_zendesk: FakeZendesk) -> None:
    fetched = await fetch(source(fake_zendesk, page_size=30))
    articles = by_key(fetched)
    assert len(articles) == 33  # 36 English articles less the draft and the two restricted ones
    assert not {"en-us/1004", "en-us/1005", "en-us/1006"} & set(articles)
    assert fetched.skipped == ()
    returns = articles["en-us/1001"]
    assert returns.title == "How do I return an item?"
    assert returns.url == f"{fake_zendesk.base_url}/hc/en-us/articles/1001-how-do-i-return-an-item"
    assert returns.visibility == "public"
    assert returns.locale == "en-us"
    assert returns.tags == ("returns & refunds", "returns", "rma")
    assert returns.body.startswith("## Start a return\n\nOpen **Orders** and choose *Return items*.")
    assert f"[carrier]({fake_zendesk.base_url}/hc/en-us/articles/1003)" in returns.body
    assert articles["en-us/1103"].tags == ("shipping",)
    article_pages = [request for request in fake_zendesk.requests if request.path.endswith("/articles.json")]
    assert [request.query.get("page[after]") is not None for request in article_pages] == [False, True]
    assert {request.authorization for request in fake_zendesk.requests} == {"anonymous"}


async def test_with_a_token_drafts_are_skipped_and_restricted_articles_are_internal(
    fake_zendesk: FakeZendesk,
) -> None:
    fetched = await fetch(source(fake_zendesk, token=fake_zendesk.token))
    articles = by_key(fetched)
    assert len(articles) == 35
    assert articles["en-us/1005"].visibility == "internal"  # user_segment_id
    assert articles["en-us/1005"].body == "Refunds over 200 EUR need a lead's approval."
    assert articles["en-us/1006"].visibility == "internal"  # user_segment_ids
    restricted = {"en-us/1005", "en-us/1006"}
    assert {article.visibility for key, article in articles.items() if key not in restricted} == {"public"}
    assert [(skip.key, skip.reason) for skip in fetched.skipped] == [("en-us/1004", "draft")]
    assert {request.authorization for request in fake_zendesk.requests} == {"agent"}


async def test_an_internal_source_keeps_every_article_internal(fake_zendesk: FakeZendesk) -> None:
    fetched = await fetch(source(fake_zendesk, visibility="internal"))
    assert {article.visibility for article in fetched.articles} == {"internal"}


async def test_locale_and_offset_pagination(fake_zendesk: FakeZendesk) -> None:
    german = by_key(await fetch(source(fake_zendesk, locale="de")))
    assert set(german) == {"de/2001", "de/2002"}
    assert german["de/2001"].title == "Wie sende ich etwas zurück?"
    assert german["de/2001"].tags == ("versand",)
    assert german["de/2001"].locale == "de"
    assert all(request.path.startswith("/api/v2/help_center/de/") for request in fake_zendesk.requests)

    fake_zendesk.cursor_pagination = False  # 30 per page, next_page links
    fake_zendesk.requests.clear()
    assert len((await fetch(source(fake_zendesk))).articles) == 33
    article_pages = [request for request in fake_zendesk.requests if request.path.endswith("/articles.json")]
    assert [request.query.get("page") for request in article_pages] == [None, "2"]


async def test_pages_are_bounded(fake_zendesk: FakeZendesk) -> None:
    fetched = await fetch(source(fake_zendesk, page_size=10, max_pages=2))
    assert len(fetched.articles) == 20
    assert [(skip.key, skip.reason) for skip in fetched.skipped] == [
        ("articles", "more than 2 pages (max_pages); the rest not read")
    ]


async def test_failures_are_source_errors_without_the_token(fake_zendesk: FakeZendesk) -> None:
    fake_zendesk.fail_next(500)
    with pytest.raises(SourceError) as failed:
        await fetch(source(fake_zendesk, token=fake_zendesk.token))
    assert str(failed.value) == (
        "Zendesk source 'help': GET /api/v2/help_center/sections.json answered 500 "
        "Internal Server Error: InternalError: Something went wrong"
    )

    with pytest.raises(SourceError) as refused:
        await fetch(source(fake_zendesk, token="wrong-token-456"))
    assert "answered 401 Unauthorized: Couldn't authenticate you" in str(refused.value)
    assert "wrong-token-456" not in str(refused.value) and fake_zendesk.token not in str(refused.value)

    with pytest.raises(SourceError, match="answered 404 Not Found: RecordNotFound"):
        await fetch(source(fake_zendesk, locale="fr"))

    fake_zendesk.fail_next(429, after=2)  # sections, the first page of articles, then the second
    with pytest.raises(SourceError) as limited:
        await fetch(source(fake_zendesk, page_size=30))
    assert str(limited.value) == (
        "Zendesk source 'help': GET /api/v2/help_center/articles.json answered 429 "
        "Too Many Requests: TooManyRequests: Rate limit exceeded"
    )


async def test_an_unreachable_help_center_is_a_source_error(fake_zendesk: FakeZendesk) -> None:
    reader = source(fake_zendesk)
    await fake_zendesk.close()
    with pytest.raises(
        SourceError, match=r"GET /api/v2/help_center/sections\.json failed: ClientConnectorError"
    ):
        await fetch(reader)


def test_config_needs_the_token_variable_and_refuses_the_token_over_plain_http() -> None:
    base = {"name": "help", "kind": "zendesk", "url": "https://acme.zendesk.com"}
    config = ZendeskSourceConfig.model_validate(
        {**base, "email": "bot@acme.example", "token_env": "ZD_TOKEN"}
    )
    with pytest.raises(ConfigError, match="ZD_TOKEN is not set"):
        config.open(Path("."), {})
    with pytest.raises(ValidationError, match="email and token_env go together"):
        ZendeskSourceConfig.model_validate({**base, "email": "bot@acme.example"})
    with pytest.raises(ValidationError, match="https"):
        ZendeskSourceConfig.model_validate(
            {**base, "url": "http://acme.zendesk.com", "email": "a@b.example", "token_env": "ZD_TOKEN"}
        )
    with pytest.raises(ValidationError, match="token"):
        ZendeskSourceConfig.model_validate({**base, "token": "abc"})
