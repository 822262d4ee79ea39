"""What a call is sent as: its target, its parameters fitted to the context window, its key.

One function for every caller that must agree on the request: the gateway's begin
stage (:mod:`.begin_stage`), and a new eval run's first calls, sent while the store
is still opening (:mod:`promptdeck.core.evals.early_start`). The two find each other
by the key, so they must build the same request. Light on purpose: no store import.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from promptdeck.core.gateway.context_stage import ContextFit, ContextWindows
from promptdeck.core.gateway.keys import exact_key, request_hash
from promptdeck.core.gateway.spec import CallSpec
from promptdeck.core.providers.router import ModelRouter
from promptdeck.core.providers.targets import Target

__all__ = ["FittedRequest", "fit_request"]


@dataclass(frozen=True)
class FittedRequest:
    """A call as it will be sent.

    Attributes:
        spec: The call (its overrides carry the ``max_tokens`` the window leaves).
        target: What its model resolves to.
        params: The parameters it is sent with.
        fit: What the context-window check decided.
        rhash: The request's hash.
        key: The exact-cache key (the hash and the repeat index).
    """

    spec: CallSpec
    target: Target
    params: dict[str, Any]
    fit: ContextFit
    rhash: str
    key: str


def fit_request(
    spec: CallSpec,
    model_name: str,
    router: ModelRouter,
    windows: ContextWindows | None,
    *,
    check_window: bool = True,
) -> FittedRequest:
    """Resolve ``model_name``, merge the parameters, fit them to the window, hash them.

    Args:
        spec: The call.
        model_name: The model to call (a budget may have switched it from the spec's).
        router: Resolves the model and merges the parameters.
        windows: Checks the prompt against the model's context window (None: no check).
        check_window: False skips the check (a call a budget already blocked).
    """
    target = router.resolve(model_name)
    params = router.params(target, spec.params, spec.overrides)
    fit = ContextFit()
    if windows is not None and check_window:
        fit = windows.fit(target, spec.messages, params, spec.prompt_name)
        if not fit.refused and fit.max_tokens is not None:
            overrides = {**spec.overrides, "max_tokens": fit.max_tokens}
            spec = dataclasses.replace(spec, overrides=overrides)
            params = router.params(target, spec.params, spec.overrides)
    rhash = request_hash(target.model, spec.messages, params, spec.response_format)
    return FittedRequest(spec, target, params, fit, rhash, exact_key(rhash, spec.repeat))
