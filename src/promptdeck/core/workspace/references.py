"""Names in ``promptdeck.toml`` that must refer to something: checked when a workspace opens.

The schema (:mod:`promptdeck.config_sections`) checks each setting alone; this
checks what one setting names elsewhere: an ensemble's members, its ``prefer`` and
``judge``, the scanners of the workspace's guardrail rules and the binding ids
of ``[keymap]``. A name that refers
to nothing is an error naming the file and line, before any command runs, rather
than a failed call later.
"""

from __future__ import annotations

from pathlib import Path

from promptdeck.config import WorkspaceConfig, toml_line
from promptdeck.errors import ConfigError, location

__all__ = ["check_references"]


def _model_problem(config: WorkspaceConfig, name: str) -> str | None:
    """Why ``name`` is no model or alias (None when it is one)."""
    from promptdeck.core.providers.local_model import BUILTIN_LOCAL_MODELS, LOCAL_PREFIX

    if name in config.models:
        return None
    if name in config.ensembles:
        return f"{name!r} is an ensemble (members are models or aliases)"
    if name.startswith(LOCAL_PREFIX):
        local = name.removeprefix(LOCAL_PREFIX)
        if local in BUILTIN_LOCAL_MODELS or local in config.local_models:
            return None
        return f"{name!r} is no local model (add it under [local_models])"
    if "/" in name.strip("/"):
        return None  # provider/model: litellm's to serve
    return f"{name!r} is no alias under [models] and not a provider/model string"


def check_references(config: WorkspaceConfig, text: str, path: Path | str) -> None:
    """Check that every name the configuration uses refers to something.

    Args:
        config: The validated configuration.
        text: Its TOML text (for line numbers).
        path: The file (for messages).

    Raises:
        ConfigError: The first name that refers to nothing, with file and line.
    """
    for name, ensemble in config.ensembles.items():
        for member in ensemble.members:
            problem = _model_problem(config, member)
            if problem:
                _fail(text, path, ("ensembles", name, "members"), f"ensemble {name!r}: {problem}")
        if ensemble.prefer is not None and ensemble.prefer not in ensemble.members:
            _fail(
                text,
                path,
                ("ensembles", name, "prefer"),
                f"ensemble {name!r}: prefer {ensemble.prefer!r} is not one of its members",
            )
        if ensemble.judge is not None:
            problem = _model_problem(config, ensemble.judge)
            if problem:
                _fail(text, path, ("ensembles", name, "judge"), f"ensemble {name!r}: {problem}")
    _check_scanners(config, text, path)
    _check_keymap(config, text, path)


def _check_scanners(config: WorkspaceConfig, text: str, path: Path | str) -> None:
    rules = [*config.guardrails.input, *config.guardrails.output]
    if not rules:
        return
    from promptdeck.core.guardrails.base import scanners

    known = scanners()
    for side in ("input", "output"):
        for rule in getattr(config.guardrails, side):
            if rule.scanner not in known:
                line = toml_line(text, ("guardrails", side))
                raise ConfigError(
                    f"{location(path, line)}: guardrails.{side}: unknown guardrail scanner "
                    f"{rule.scanner!r}",
                    f"use one of: {', '.join(known)}",
                )


def _check_keymap(config: WorkspaceConfig, text: str, path: Path | str) -> None:
    from difflib import get_close_matches

    from promptdeck.keymap_ids import KEYMAP_IDS

    for binding in config.keymap:
        if binding in KEYMAP_IDS:
            continue
        close = get_close_matches(binding, sorted(KEYMAP_IDS), n=3, cutoff=0.6)
        hint = (
            f"did you mean {' or '.join(repr(c) for c in close)}?"
            if close
            else "press F1 in the TUI for each screen's binding ids (see docs/formats.md)"
        )
        line = toml_line(text, ("keymap", binding))
        raise ConfigError(f"{location(path, line)}: keymap: unknown binding id {binding!r}", hint)


def _fail(text: str, path: Path | str, loc: tuple[str, ...], message: str) -> None:
    raise ConfigError(
        f"{location(path, toml_line(text, loc))}: {message}",
        "name a model alias from [models], local/<name> or provider/model",
    )
