"""Dense vectors for sections and queries, from a static embedding model that ships inside a package.

The model is WordLlama's ``l2_supercat`` (the ``wordllama`` package on PyPI carries its 32,000 x 256
token table, 16 MB, and its tokenizer): a text's vector is the mean of its tokens' vectors, truncated to
:data:`DIMENSIONS` (the table is trained so that its leading dimensions carry the most) and scaled to
unit length, so a dot product is the cosine similarity. No network, no GPU, no torch: numpy, the
``tokenizers`` and ``safetensors`` libraries only. The files are found without importing ``wordllama``
itself (whose loader would try to download a file it ships under another folder name).

Loading is lazy and happens once per process (:func:`shared_embedder`). If the package or its files are
missing or unreadable, :func:`shared_embedder` returns None, logs the reason once, and
:func:`unavailable_reason` keeps it for ``supportbot doctor``; search then stays lexical.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

#: Leading dimensions of the model's vectors that are kept (of 256): half the memory and time of the
#: full width for a small loss (bench/kb_quality.py measures it).
DIMENSIONS = 128

#: Words of a text that count towards its vector: a section's opening words say what it is about.
MAX_WORDS = 400

#: Distinct words whose tokens are kept (a few MB); past this the cache is emptied and filled again.
MAX_CACHED_WORDS = 200_000

_WORDS = re.compile(r"[^\W_]+")

MODEL_NAME = "wordllama l2_supercat"
_WEIGHTS = ("weights", "l2_supercat_256.safetensors")
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")

Vectors = npt.NDArray[np.float32]


class EmbeddingUnavailable(RuntimeError):
    """The embedding model could not be loaded; the message says why."""


class Embedder:
    """Turns texts into unit vectors of :data:`DIMENSIONS` floats. Thread-safe.

    A static model's vector of a text is the mean of its tokens' vectors, and a word's tokens do not
    depend on its neighbours, so each distinct word is tokenized once and its tokens' sum and count are
    kept (:data:`MAX_CACHED_WORDS` words at most, then the cache starts again): indexing a large
    knowledge base tokenizes its vocabulary, not its text. The sum of a text's token vectors points where
    their mean does, so scaling it to unit length gives the same vector. Punctuation is not embedded.
    """

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, table: npt.NDArray[np.float32], tokenizer: Tokenizer) -> None:
        self._table = table
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # guards the word cache below
        self._word_index: dict[str, int] = {}
        self._word_sums = np.zeros((1024, DIMENSIONS), dtype=np.float32)  # a word's tokens' vectors, summed

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
        return cls(np.ascontiguousarray(table, dtype=np.float32), tokenizer)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit vector per text (a text without words gets zeros), as float32 rows."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        with self._lock:
            per_text = [self._word_ids(_WORDS.findall(text)[:MAX_WORDS]) for text in texts]
            for row, ids in enumerate(per_text):
                if ids:
                    index = np.fromiter(ids, dtype=np.int64, count=len(ids))
                    total = self._word_sums[index].sum(axis=0)
                    norm = float(np.linalg.norm(total))
                    if norm > 0:
                        out[row] = total / norm
        return out

    def is_word(self, word: str) -> bool:
        """Whether the model's vocabulary holds ``word`` whole (its tokenizer does not split it)."""
        return len(self._tokenizer.encode(word, add_special_tokens=False).ids) == 1

    def _word_ids(self, words: list[str]) -> list[int]:
        """Each word's row in the word cache, tokenizing the words not seen yet (lock held)."""
        new = [word for word in dict.fromkeys(words) if word not in self._word_index]
        if new:
            if len(self._word_index) + len(new) > MAX_CACHED_WORDS:
                self._word_index.clear()
                new = list(dict.fromkeys(words))
            start = len(self._word_index)
            needed = start + len(new)
            if needed > len(self._word_sums):
                sums = np.zeros((max(needed, 2 * len(self._word_sums)), DIMENSIONS), dtype=np.float32)
                sums[:start] = self._word_sums[:start]
                self._word_sums = sums
            for offset, encoding in enumerate(self._tokenizer.encode_batch(new, add_special_tokens=False)):
                ids = np.clip(np.asarray(encoding.ids, dtype=np.int64), 0, len(self._table) - 1)
                self._word_sums[start + offset] = self._table[ids].sum(axis=0)
                self._word_index[new[offset]] = start + offset
        return [self._word_index[word] for word in words]


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
