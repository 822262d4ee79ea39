"""The shipped classifiers on the held-out test split of ``../shared/datasets``.

The split is the benchmark's (``bench/guardrails.py``: 20 % of every source, never
trained on or used to choose anything). The data is found where ``PROMPTDECK_DATASETS``
points, else in ``shared/datasets`` beside the repository, else in the workplace's
``/work/shared/datasets`` (where CI's clean clone, made elsewhere, finds it); on a
machine with none of them these skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_CANDIDATES = [
    *([Path(os.environ["PROMPTDECK_DATASETS"])] if os.environ.get("PROMPTDECK_DATASETS") else []),
    ROOT.parent / "shared" / "datasets",
    Path("/work/shared/datasets"),
]
DATA = next(
    (p for p in _CANDIDATES if (p / "toxicity" / "toxicity.jsonl").is_file()), _CANDIDATES[0]
)

pytestmark = pytest.mark.skipif(
    not (DATA / "toxicity" / "toxicity.jsonl").is_file(), reason=f"no datasets at {DATA}"
)


def test_toxicity_f1_is_at_least_090() -> None:
    from bench.guardrails import measure_toxicity

    precision, recall, f1, n = measure_toxicity(DATA)["overall"]
    assert n > 600
    assert f1 >= 0.90, (precision, recall, f1)


def test_injection_and_jailbreak_keep_their_recall_and_false_positive_rate() -> None:
    from bench.guardrails import measure_attacks

    attacks = measure_attacks(DATA)
    assert attacks["recall"] >= 0.90 and attacks["fpr"] <= 0.05, attacks["per_label"]
