"""`supportbot kb search`'s table, as a person reads it."""

from __future__ import annotations

from bot.kb.hits import KbHit
from bot.run.kb_search import hits_table


def _hit(title: str, url: str, source: str) -> KbHit:
    return KbHit(
        slug=f"{title.lower()}.md",
        title=title,
        url=url,
        visibility="public",
        snippet="Send a photo of the box; a replacement ships within 2 days.",
        score=0.5,
        source=source,
    )


def test_a_hit_without_an_address_has_no_empty_link_line() -> None:
    table = hits_table(
        [_hit("Returns", "https://help.example/returns", "help-center"), _hit("Crushed", "", "drafts")]
    )

    lines = table.splitlines()
    assert [line.split()[-1] for line in lines[1:4]] == ["Returns", "https://help.example/returns", "days."]
    assert lines[4].split()[-1] == "Crushed" and lines[5].strip().startswith("Send a photo")
    assert len(lines) == 6 and all(line.strip() for line in lines)
