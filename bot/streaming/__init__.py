"""Rendering one reply by posting and editing messages, inside a platform's rate limits
(docs/architecture.md §5).

- ``protocol``: the ``ReplyStream`` an adapter implements, and its errors;
- ``reply``: ``StreamingReply``, which renders the agent's events through a ``ReplyStream``;
- ``budget``: ``EditBudget``, the rate budget shared by the replies of one platform bucket;
- ``splitter``: splitting Markdown into messages that fit the platform's length limit;
- ``clock``: the injectable time source.
"""
