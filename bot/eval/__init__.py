"""`supportbot eval`: golden conversations run through the whole bot and checked (docs/architecture.md §9,
evals/README.md for the case format).

`cases` loads and validates case files, `runner` runs them on a fresh app each, `checks` turns unmet
expectations into reasons, `language` tells an answer's language, `judge` grades rubrics with a model,
`batch` sends the model's requests through the Message Batches API, `report` and `html` show the results,
`compare` shows two variants side by side.
"""
