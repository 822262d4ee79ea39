"""Logistic regression in numpy: fitting (for the training script) and the shipped heads.

The classifiers of the ``injection``, ``jailbreak`` and ``toxicity`` scanners are one
linear layer each over the 384-d sentence vector; the ``toxicity`` head also weighs the
text's hashed n-grams (:mod:`.lexical`). Their weights ship in
``models/classifiers.npz`` (float32, a few tens of KB), written by
``scripts/train_guardrails.py``; see ``models/SOURCES.md`` for the training data.
numpy is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.errors import RuntimeFailureError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "DIRECT_SOLVE_FEATURES",
    "MODELS_PATH",
    "LinearHead",
    "fit_logistic",
    "load_heads",
    "save_heads",
]

MODELS_PATH = Path(__file__).parent / "models" / "classifiers.npz"
"""The shipped classifier weights."""
DIRECT_SOLVE_FEATURES = 2048
"""Up to this many features a Newton step solves the Hessian directly."""


@dataclass(frozen=True)
class LinearHead:
    """One logistic-regression classifier over sentence vectors.

    Attributes:
        name: The scanner it serves.
        weights: One weight per vector dimension (float32).
        bias: The intercept.
        threshold: The probability at or above which the scanner flags a text.
        lexical: One weight per n-gram bucket (:func:`.lexical.lexical_features`), or
            None for a head that reads the sentence vector only.
    """

    name: str
    weights: NDArray[np.float32]
    bias: float
    threshold: float
    lexical: NDArray[np.float32] | None = None

    def predict(
        self, vectors: NDArray[np.float32], lexical: NDArray[np.float32] | None = None
    ) -> NDArray[np.float32]:
        """Return the probability of the positive class for each row of ``vectors``.

        Args:
            vectors: ``(n, 384)`` sentence vectors.
            lexical: ``(n, LEXICAL_DIMENSIONS)`` n-gram rows of the same texts; needed
                when the head has :attr:`lexical` weights.

        Raises:
            ValueError: When the head reads n-grams and none are given.
        """
        import numpy as np

        logits = vectors @ self.weights + np.float32(self.bias)
        if self.lexical is not None:
            if lexical is None:
                raise ValueError(f"the {self.name} head needs the texts' n-gram features")
            logits = logits + lexical @ self.lexical
        probabilities: NDArray[np.float32] = (
            1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))
        ).astype(np.float32)
        return probabilities


def fit_logistic(
    features: NDArray[np.float32],
    labels: NDArray[np.float32],
    *,
    l2: float | NDArray[np.float64] = 1.0,
    sample_weight: NDArray[np.float32] | None = None,
    max_iter: int = 50,
    tol: float = 1e-6,
) -> tuple[NDArray[np.float32], float]:
    """Fit an L2-regularised logistic regression by Newton's method.

    Minimises ``sum(w_i * logloss_i) + sum(l2_j/2 * weight_j^2)`` (the bias is not
    penalised). With more than :data:`DIRECT_SOLVE_FEATURES` features each Newton step
    is solved by conjugate gradients on Hessian-vector products instead of forming the
    Hessian.

    Args:
        features: ``(n, d)`` inputs.
        labels: ``(n,)`` targets in {0, 1}.
        l2: Regularisation strength, one for all features or one per feature.
        sample_weight: Per-row weights (default 1).
        max_iter: Newton steps at most.
        tol: Stop when the largest change of a parameter is below this.

    Returns:
        ``(weights, bias)``.
    """
    import numpy as np

    x = np.hstack([features.astype(np.float64), np.ones((len(features), 1))])
    y = labels.astype(np.float64)
    w_rows = np.ones(len(y)) if sample_weight is None else sample_weight.astype(np.float64)
    penalty = np.zeros(x.shape[1])
    penalty[:-1] = l2
    theta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -30.0, 30.0)))
        gradient = x.T @ (w_rows * (p - y)) + penalty * theta
        curvature = w_rows * p * (1.0 - p)
        if x.shape[1] <= DIRECT_SOLVE_FEATURES:
            hessian = (x * curvature[:, None]).T @ x + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hessian, gradient)
        else:
            step = _conjugate_gradient(x, curvature, penalty + 1e-9, gradient)
        theta -= step
        if np.max(np.abs(step)) < tol:
            break
    return theta[:-1].astype(np.float32), float(theta[-1])


def _conjugate_gradient(
    x: NDArray[np.float64],
    curvature: NDArray[np.float64],
    ridge: NDArray[np.float64],
    gradient: NDArray[np.float64],
    max_iter: int = 200,
) -> NDArray[np.float64]:
    """Solve ``(x' diag(curvature) x + diag(ridge)) step = gradient`` without forming it."""
    import numpy as np

    step = np.zeros_like(gradient)
    residual = gradient.copy()
    direction = residual.copy()
    norm = float(residual @ residual)
    target = 1e-12 * norm
    for _ in range(max_iter):
        if norm <= target:
            break
        product = x.T @ (curvature * (x @ direction)) + ridge * direction
        alpha = norm / float(direction @ product)
        step += alpha * direction
        residual -= alpha * product
        new_norm = float(residual @ residual)
        direction = residual + (new_norm / norm) * direction
        norm = new_norm
    return step


def save_heads(heads: list[LinearHead], path: Path = MODELS_PATH) -> None:
    """Write heads to an ``.npz`` file (float32 weights, no pickles)."""
    import numpy as np

    arrays: dict[str, NDArray[np.float32]] = {}
    for head in heads:
        arrays[f"{head.name}.weights"] = head.weights.astype(np.float32)
        arrays[f"{head.name}.bias"] = np.array([head.bias], dtype=np.float32)
        arrays[f"{head.name}.threshold"] = np.array([head.threshold], dtype=np.float32)
        if head.lexical is not None:
            arrays[f"{head.name}.lexical"] = head.lexical.astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]


_heads: dict[str, LinearHead] | None = None
_heads_lock = threading.Lock()


def load_heads(path: Path = MODELS_PATH) -> dict[str, LinearHead]:
    """Return the shipped heads by name (read once per process).

    Raises:
        RuntimeFailureError: When the weights file is missing or unreadable.
    """
    global _heads
    with _heads_lock:
        if _heads is not None and path == MODELS_PATH:
            return _heads
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as data:
                names = sorted({key.rsplit(".", 1)[0] for key in data.files})
                heads = {
                    name: LinearHead(
                        name,
                        data[f"{name}.weights"].astype(np.float32),
                        float(data[f"{name}.bias"][0]),
                        float(data[f"{name}.threshold"][0]),
                        (
                            data[f"{name}.lexical"].astype(np.float32)
                            if f"{name}.lexical" in data.files
                            else None
                        ),
                    )
                    for name in names
                }
        except (OSError, KeyError, ValueError) as exc:
            raise RuntimeFailureError(
                f"cannot read the guardrail classifiers {path}: {exc}",
                "reinstall promptdeck, or run scripts/train_guardrails.py",
            ) from exc
        if path == MODELS_PATH:
            _heads = heads
        return heads
