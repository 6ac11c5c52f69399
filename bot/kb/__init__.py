"""The knowledge base: help articles from their sources, kept searchable (docs/architecture.md §6).

``bot.kb.index`` keeps the local search index (``apply`` for the store's changes, ``search``); the names
below are what the rest of the bot uses.
"""

from bot.kb.hits import KbHit, Visibility
from bot.kb.index import (
    FOLDER_SOURCE,
    MAX_ARTICLE_CHARS,
    Article,
    FrontMatterError,
    IndexReport,
    KnowledgeBase,
    article_files,
    load_articles,
    parse_article,
    parse_front_matter,
)
from bot.kb.lexical import STOPWORDS, query_terms
from bot.kb.markdown import markdown_to_text

__all__ = [
    "FOLDER_SOURCE",
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
