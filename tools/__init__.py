"""The agent's tools. Each one decides by itself what the asking principal may see (DESIGN.md §6)."""
