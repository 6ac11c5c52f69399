"""The content of the fake Help Center: sections and articles, and their JSON as Zendesk's API gives it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CREATED_AT = "2024-03-01T09:00:00Z"


@dataclass
class FakeSection:
    id: int
    name: str
    locale: str = "en-us"
    category_id: int = 100

    def json(self, base_url: str) -> dict[str, object]:
        return {
            "id": self.id,
            "url": f"{base_url}/api/v2/help_center/{self.locale}/sections/{self.id}.json",
            "html_url": f"{base_url}/hc/{self.locale}/sections/{self.id}",
            "category_id": self.category_id,
            "position": 0,
            "sorting": "manual",
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "name": self.name,
            "description": "",
            "locale": self.locale,
            "source_locale": "en-us",
            "outdated": False,
            "parent_section_id": None,
            "theme_template": "section_page",
        }


@dataclass
class FakeArticle:
    id: int
    title: str
    body: str  # HTML, as Zendesk stores it
    section_id: int
    locale: str = "en-us"
    draft: bool = False
    #: None: everyone may read it; otherwise only the segment's users (the fake: only an authenticated agent).
    user_segment_id: int | None = None
    #: The newer field: several segments (``user_segment_id`` is then null).
    user_segment_ids: list[int] = field(default_factory=list)
    label_names: list[str] = field(default_factory=list)
    updated_at: str = CREATED_AT

    @property
    def restricted(self) -> bool:
        return self.user_segment_id is not None or bool(self.user_segment_ids)

    def json(self, base_url: str) -> dict[str, object]:
        slug = "-".join(re.findall(r"\w+", self.title.lower()))
        return {
            "id": self.id,
            "url": f"{base_url}/api/v2/help_center/{self.locale}/articles/{self.id}.json",
            "html_url": f"{base_url}/hc/{self.locale}/articles/{self.id}-{slug}",
            "author_id": 3001,
            "comments_disabled": False,
            "draft": self.draft,
            "promoted": False,
            "position": 0,
            "vote_sum": 0,
            "vote_count": 0,
            "section_id": self.section_id,
            "created_at": CREATED_AT,
            "updated_at": self.updated_at,
            "edited_at": self.updated_at,
            "name": self.title,
            "title": self.title,
            "source_locale": "en-us",
            "locale": self.locale,
            "outdated": False,
            "outdated_locales": [],
            "permission_group_id": 2001,
            "content_tag_ids": [],
            "label_names": list(self.label_names),
            "user_segment_id": self.user_segment_id,
            "user_segment_ids": self.user_segment_ids or ([self.user_segment_id] if self.restricted else []),
            "body": self.body,
        }


def demo_help_center() -> tuple[list[FakeSection], list[FakeArticle]]:
    """A small Help Center: two sections in English and one in German; 36 English articles (two pages of
    30 at the API's default size) of which one is a draft and two restricted to agents (one by
    ``user_segment_id``, one by ``user_segment_ids``), and two German ones.
    """
    sections = [
        FakeSection(200, "Returns & refunds"),
        FakeSection(201, "Shipping"),
        FakeSection(202, "Versand", locale="de"),
    ]
    articles = [
        FakeArticle(
            1001,
            "How do I return an item?",
            "<h2>Start a return</h2><p>Open <strong>Orders</strong> and choose <em>Return items</em>.</p>"
            "<ul><li>Print the label</li>"
            '<li>Drop it at a <a href="/hc/en-us/articles/1003">carrier</a></li></ul>',
            200,
            label_names=["returns", "RMA"],
        ),
        FakeArticle(1002, "Refund timing", "<p>Refunds reach your card within 5 business days.</p>", 200),
        FakeArticle(1003, "Carriers we use", "<p>We ship with DHL and UPS.</p>", 201),
        FakeArticle(1004, "Holiday shipping (draft)", "<p>Not published yet.</p>", 201, draft=True),
        FakeArticle(
            1005,
            "Refund approval for agents",
            "<p>Refunds over 200 EUR need a lead's approval.</p>",
            200,
            user_segment_id=360_001,
        ),
        FakeArticle(
            1006,
            "Chargeback playbook",
            "<p>Answer a chargeback within 7 days.</p>",
            200,
            user_segment_ids=[360_002, 360_003],
        ),
    ]
    articles += [
        FakeArticle(1100 + n, f"Shipping question {n}", f"<p>Answer number {n} about parcels.</p>", 201)
        for n in range(30)
    ]
    articles += [
        FakeArticle(
            2001, "Wie sende ich etwas zurück?", "<p>Öffnen Sie <b>Bestellungen</b>.</p>", 202, locale="de"
        ),
        FakeArticle(2002, "Versandzeiten", "<p>Zwei bis drei Werktage.</p>", 202, locale="de"),
    ]
    return sections, articles
