"""Who is acting: the name recorded on label moves, approvals, ratings and new versions.

In order: ``PROMPTDECK_USER``; else git's ``user.name`` as ``git config`` answers it
in the workspace (its own config, then the user's; no network); else the login name.
A shared workspace (PostgreSQL) shows which teammate did what.

A workspace's session carries its folder (:data:`SESSION_ROOT` in ``Session.info``),
so :func:`session_actor` asks git in the right repository whatever the current folder.
A leaf module: any layer may import it.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["ENV_USER", "SESSION_ROOT", "current_actor", "git_user_name", "session_actor"]

ENV_USER = "PROMPTDECK_USER"
"""The environment variable naming who acts (wins over git and the login name)."""

SESSION_ROOT = "promptdeck.workspace_root"
"""The ``Session.info`` key holding the workspace folder."""

_MAX_NAME = 200


def _clean(name: str | None) -> str | None:
    if name is None:
        return None
    name = " ".join(name.split())[:_MAX_NAME]
    return name or None


_GIT_ENV = ("PATH", "HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")
"""The variables git's answer depends on besides the folder (part of the cache key)."""


def git_user_name(root: Path) -> str | None:
    """``git config user.name`` in ``root`` (None without git, a name, or in 5 s).

    Asked once per folder and environment: a sync that records many versions runs git once.
    """
    return _git_user_name(root, tuple(os.environ.get(name) for name in _GIT_ENV))


@lru_cache(maxsize=16)
def _git_user_name(root: Path, _env_key: tuple[str | None, ...]) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            [git, "-C", str(root), "config", "--get", "user.name"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            env=env,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return _clean(done.stdout) if done.returncode == 0 else None


def current_actor(root: Path | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """Who is acting (see the module doc), or None when nothing names anyone.

    Args:
        root: The workspace folder git is asked in (default: the current folder).
        environ: The environment (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    named = _clean(env.get(ENV_USER))
    if named:
        return named
    from_git = git_user_name((root or Path.cwd()).resolve())
    if from_git:
        return from_git
    try:
        return _clean(getpass.getuser())
    except (KeyError, OSError, ImportError):
        return None


def session_actor(session: Any) -> str | None:
    """Who acts through ``session``: :func:`current_actor` in its workspace's folder."""
    info = getattr(session, "info", None) or {}
    root = info.get(SESSION_ROOT)
    return current_actor(Path(root) if root is not None else None)
