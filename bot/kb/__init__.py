"""The knowledge base: help articles from their sources, kept searchable (docs/architecture.md §6).

``bot.kb.index`` parses articles and keeps the local search index; the names below are what the rest of
the bot uses.
"""

from bot.kb.index import (
    MAX_ARTICLE_CHARS,
    STOPWORDS,
    Article,
    FrontMatterError,
    IndexReport,
    KbHit,
    KnowledgeBase,
    Visibility,
    article_files,
    load_articles,
    markdown_to_text,
    parse_article,
    parse_front_matter,
    query_terms,
)

__all__ = [
    "MAX_ARTICLE_CHARS",
    "STOPWORDS",
    "Article",
    "FrontMatterError",
    "IndexReport",
    "KbHit",
    "KnowledgeBase",
    "Visibility",
    "article_files",
    "load_articles",
    "markdown_to_text",
    "parse_article",
    "parse_front_matter",
    "query_terms",
]
