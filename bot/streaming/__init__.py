"""Rendering one reply by posting and editing messages, inside a platform's rate limits (DESIGN.md §5)."""
