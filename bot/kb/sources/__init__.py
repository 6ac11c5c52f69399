"""Where articles come from: one module per kind of source (a docs folder, a website, a Zendesk Help Center).

Every kind hands the sync (``bot.kb.sync``) the same thing, defined in ``bot.kb.sources.base``: the
articles as fetched and what was skipped, and why.
"""
