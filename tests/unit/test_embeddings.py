"""Embeddings and the pure parts of the AI catalog jobs, without Redis or a worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from jobboard.core.settings import get_settings
from workers import embeddings
from workers.ai_catalog import (
    UnionFind,
    duplicate_groups,
    normalized_title,
    similar_pairs,
    softmax_confidence,
    top_matches,
)


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("JOBBOARD_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    get_settings.cache_clear()


def unit_rows(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    return embeddings.normalize(vectors)


def test_model_dir_links_the_packaged_files(var_dir: Path) -> None:
    folder = embeddings.prepare_model_dir()
    assert folder == var_dir / "models" / "wordllama"
    assert (folder / "tokenizers" / "l2_supercat_tokenizer_config.json").is_file()
    assert (folder / "weights" / "l2_supercat_256.safetensors").is_file()
    assert embeddings.prepare_model_dir() == folder  # a second run keeps what is there


def test_embed_gives_unit_rows_in_input_order(var_dir: Path) -> None:
    texts = ["a much longer text about a blue cotton t-shirt", "kettle", "", "blue t-shirt"]
    batches: list[tuple[int, int]] = []
    vectors = embeddings.embed(texts, on_batch=lambda d, t: batches.append((d, t)), batch_size=3)
    assert vectors.shape == (4, embeddings.DIM) and vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    assert np.allclose(norms[[0, 1, 3]], 1.0, atol=1e-5) and norms[2] == 0
    assert not np.isnan(vectors).any()
    assert batches == [(3, 4), (4, 4)]
    alone = embeddings.embed([texts[0]])[0]
    assert float(alone @ vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert float(vectors[0] @ vectors[3]) > float(vectors[1] @ vectors[3])


def test_embed_caps_very_long_texts(var_dir: Path) -> None:
    vectors = embeddings.embed(["word " * 50_000, "word"])
    assert np.isfinite(vectors).all()


def test_product_text_strips_html_and_skips_repeats() -> None:
    product = SimpleNamespace(
        title="Blue Tee",
        vendor="Acme",
        product_type="Tee",
        tags=["cotton", "blue"],
        description="<p>Soft &amp; <b>light</b>.</p><script>x()</script>" + " more" * 100,
    )
    text = embeddings.product_text(product)
    assert text.startswith("Blue Tee. Acme. cotton, blue. Soft & light. more")
    assert "<" not in text and "x()" not in text
    assert len(text) < 260
    assert embeddings.product_text(SimpleNamespace(title="Mug")) == "Mug"


def test_normalized_title_ignores_case_and_punctuation() -> None:
    assert normalized_title("Blue  T-Shirt!") == normalized_title("blue t shirt") == "blue t shirt"


def test_similar_pairs_match_brute_force_across_blocks() -> None:
    rng = np.random.default_rng(1)
    vectors = unit_rows(rng, 700)
    vectors[650] = vectors[3]
    sims = vectors @ vectors.T
    want = set(zip(*np.nonzero(np.triu(sims, 1) >= 0.55), strict=True))
    got: set[tuple[int, int]] = set()
    for _, i, j, score in similar_pairs(vectors, 0.55, block_rows=128):
        assert (i < j).all() and (score >= 0.55).all() and (score <= 1.0).all()
        got |= set(zip(i.tolist(), j.tolist(), strict=True))
    assert got == {(int(a), int(b)) for a, b in want}
    assert (3, 650) in got


def test_union_find_matches_a_naive_one() -> None:
    rng = np.random.default_rng(2)
    for _ in range(100):
        n = int(rng.integers(2, 50))
        edges = int(rng.integers(0, 60))
        i, j = rng.integers(0, n, edges), rng.integers(0, n, edges)
        found = UnionFind(n)
        half = edges // 2
        found.add(i[:half], j[:half], 0.9)
        found.add(i[half:], j[half:], 0.95)
        parent = list(range(n))

        def root(x: int, parent: list[int] = parent) -> int:
            while parent[x] != x:
                x = parent[x]
            return x

        for a, b in zip(i.tolist(), j.tolist(), strict=True):
            parent[root(a)] = root(b)
        naive: dict[int, list[int]] = {}
        for k in range(n):
            naive.setdefault(root(k), []).append(k)
        want = sorted(g for g in naive.values() if len(g) > 1)
        assert sorted(g.tolist() for g in found.groups()) == want


def test_duplicate_groups_use_exact_keys_and_strongest_pair() -> None:
    rng = np.random.default_rng(3)
    vectors = unit_rows(rng, 6, dim=64)
    vectors[1] = embeddings.normalize((vectors[0] + 0.2 * vectors[1])[None])[0]
    fractions: list[float] = []
    groups = duplicate_groups(
        vectors,
        0.9,
        titles=["a", "b", "c", "c", "", ""],
        skus=["", "", "", "", "x", "x"],  # already normalised by the caller
        on_block=fractions.append,
    )
    members = [sorted(g.tolist()) for _, g in groups]
    assert members == [[2, 3], [4, 5], [0, 1]]  # exact twins (1.0) first
    assert [s for s, _ in groups][:2] == [1.0, 1.0]
    assert 0.9 <= groups[2][0] < 1.0
    assert fractions[-1] == pytest.approx(1.0)


def test_duplicate_groups_scale_to_many_rows() -> None:
    rng = np.random.default_rng(4)
    vectors = unit_rows(rng, 5000, dim=32)
    vectors[4000:4010] = vectors[10]
    groups = duplicate_groups(vectors, 0.97)
    assert [sorted(g.tolist()) for _, g in groups] == [[10, *range(4000, 4010)]]


def test_softmax_confidence() -> None:
    sims = np.array([[0.30, 0.10, 0.10], [0.2, 0.2, 0.2]], dtype=np.float32)
    confidence = softmax_confidence(sims, temperature=0.05)
    assert confidence[0] == pytest.approx(1 / (1 + 2 * np.exp(-4)), rel=1e-5)
    assert confidence[1] == pytest.approx(1 / 3)


def test_top_matches_orders_the_best_first() -> None:
    rng = np.random.default_rng(5)
    catalog = unit_rows(rng, 300)
    queries = catalog[[7, 42]].copy()
    best, scores = top_matches(queries, catalog, k=3)
    assert best[:, 0].tolist() == [7, 42]
    assert (np.diff(scores, axis=1) <= 0).all() and scores[:, 0] == pytest.approx(1.0, abs=1e-5)
    best, scores = top_matches(queries, catalog[:2], k=3)  # fewer products than k
    assert best.shape == (2, 2)


def test_importing_wordllama_leaves_logging_alone() -> None:
    """wordllama calls logging.basicConfig(level=INFO) on import; ours must not change."""
    import logging
    import subprocess
    import sys

    code = (
        "import logging\n"
        "from workers import embeddings\n"
        "embeddings._import_wordllama()\n"
        "root = logging.getLogger()\n"
        "print(len(root.handlers), root.level)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.split()
    assert out == ["0", str(logging.WARNING)]
