"""The knowledge base: help articles from their sources, kept searchable (docs/architecture.md §6).

Import from the module that holds a name (``bot.kb.index`` the local search index, ``bot.kb.hits`` what a
search returns, ``bot.kb.sources`` where articles come from): this package imports nothing itself, so that
reading a word list (``bot.kb.lexical``) costs no more than that.
"""
