"""The agent's tools. Each one decides by itself what the asking principal may see
(docs/architecture.md §6)."""
