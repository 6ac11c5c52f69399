"""Dense vectors for sections and queries, from a static embedding model that ships inside a package.

The model is WordLlama's ``l2_supercat`` (the ``wordllama`` package on PyPI carries its 32,000 x 256
token table, 16 MB, and its tokenizer): a text's vector is the mean of its tokens' vectors, truncated to
:data:`DIMENSIONS` (the table is trained so that its leading dimensions carry the most) and scaled to
unit length, so a dot product is the cosine similarity. No network, no GPU, no torch: numpy and the
``tokenizers`` library only. The files are found without importing ``wordllama`` itself (whose loader
would try to download a file it ships under another folder name).

Loading is lazy and happens once per process (:func:`shared_embedder`). If the package or its files are
missing or unreadable, :func:`shared_embedder` returns None, logs the reason once, and
:func:`unavailable_reason` keeps it for ``supportbot doctor``; search then stays lexical.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

#: Leading dimensions of the model's vectors that are kept (of 256): half the memory and time of the
#: full width for a small loss (bench/kb_quality.py measures it).
DIMENSIONS = 128

#: Tokens of a text that count towards its vector: a section's opening words say what it is about.
MAX_TOKENS = 512

MODEL_NAME = "wordllama l2_supercat"
_WEIGHTS = ("weights", "l2_supercat_256.safetensors")
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")

Vectors = npt.NDArray[np.float32]


class EmbeddingUnavailable(RuntimeError):
    """The embedding model could not be loaded; the message says why."""


class Embedder:
    """Turns texts into unit vectors of :data:`DIMENSIONS` floats. Thread-safe (read-only state)."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, table: npt.NDArray[np.float16], tokenizer: object) -> None:
        from tokenizers import Tokenizer

        assert isinstance(tokenizer, Tokenizer)
        self._table = table
        self._tokenizer = tokenizer

    @classmethod
    def load(cls) -> Embedder:
        """Load the model from the installed ``wordllama`` package; :class:`EmbeddingUnavailable` if not."""
        try:
            spec = importlib.util.find_spec("wordllama")
            if spec is None or not spec.submodule_search_locations:
                raise EmbeddingUnavailable("the wordllama package is not installed")
            root = Path(next(iter(spec.submodule_search_locations)))
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            table = load_file(str(root.joinpath(*_WEIGHTS)))["embedding.weight"][:, :DIMENSIONS]
            tokenizer = Tokenizer.from_file(str(root.joinpath(*_TOKENIZER)))
        except EmbeddingUnavailable:
            raise
        except Exception as exc:  # an import, file or format error: any of them means "not available"
            raise EmbeddingUnavailable(f"{type(exc).__name__}: {exc}") from None
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return cls(np.ascontiguousarray(table, dtype=np.float16), tokenizer)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit vector per text (a text without tokens gets zeros), as float32 rows."""
        from tokenizers import Tokenizer

        tokenizer = self._tokenizer
        assert isinstance(tokenizer, Tokenizer)
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        encoded = tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ids = [np.asarray(e.ids[:MAX_TOKENS], dtype=np.int64) for e in encoded]
        lengths = np.array([len(i) for i in ids])
        present = lengths > 0
        if present.any():
            flat = np.concatenate([i for i in ids if len(i)])
            np.clip(flat, 0, self._table.shape[0] - 1, out=flat)
            starts = np.concatenate(([0], np.cumsum(lengths[present])[:-1]))
            sums = np.add.reduceat(self._table[flat].astype(np.float32), starts, axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            out[present] = sums / np.maximum(norms, 1e-12)
        return out


_lock = threading.Lock()
_loaded: Embedder | None = None
_reason: str | None = None
_tried = False


def shared_embedder() -> Embedder | None:
    """The process's embedder, loaded on first use; None (logged once) if the model cannot load."""
    global _loaded, _reason, _tried
    with _lock:
        if not _tried:
            _tried = True
            try:
                _loaded = Embedder.load()
            except EmbeddingUnavailable as exc:
                _reason = str(exc)
                logger.warning("knowledge base: semantic search is off, search stays lexical: %s", _reason)
        return _loaded


def unavailable_reason() -> str | None:
    """Why the model could not load (None if it loaded or was not tried yet)."""
    with _lock:
        return _reason
