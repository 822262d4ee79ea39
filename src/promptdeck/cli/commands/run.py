"""``promptdeck run PROMPT``: render a prompt, call a model, print the answer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import click

from promptdeck.cli.context import Options, open_workspace
from promptdeck.cli.output import echo_json, echo_warning
from promptdeck.errors import CheckFailedError, PromptdeckError, RuntimeFailureError, UsageError

if TYPE_CHECKING:
    from promptdeck.core.compare.ensembles import EnsembleResult
    from promptdeck.core.gateway.engine import CallResult, CallSpec, Gateway

__all__ = ["ensemble_line", "parse_vars", "run", "summary_line"]

_HINTS = {
    "auth": "set the key's environment variable (see `api_key_env` in docs/formats.md)",
    "connection": "check the server is running and `api_base` is right",
    "rate_limit": "wait, lower [concurrency], or set `on_rate_limit` to a backup model",
    "timeout": 'raise `timeout`, or set `on_timeout` to a backup model or "cached"',
    "budget": "raise the budget's limit_usd, or change its action, in promptdeck.toml",
    "config": "check the model name and [local_models] in promptdeck.toml",
    "context_window": "shorten the prompt or its values, or use a model with a larger "
    "context window (an alias's `context_window` in promptdeck.toml)",
    "guardrail": "change the input, or the prompt's `guardrails:` rules (docs/formats.md)",
}
#: Failures that are the caller's to fix (exit 1 or 2); the rest are runtime failures.
_FAILURES: dict[str, type[PromptdeckError]] = {
    "guardrail": CheckFailedError,
    "context_window": UsageError,
}


def parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    """Parse ``k=v`` pairs.

    Raises:
        UsageError: When a pair has no ``=`` or no name.
    """
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var {pair!r} is not NAME=VALUE", "write e.g. --var text=hello")
        values[name.strip()] = value
    return values


def summary_line(result: CallResult) -> str:
    """One line: model, tokens, cost, latency, cache state and trace id."""
    done = result.completion
    model = done.answered_by or done.model
    if done.answered_by and done.answered_by != done.model:
        model = f"{done.model} → {done.answered_by}"
    usage = done.usage
    approx = "~" if usage.estimated else ""
    cost = "cost unknown" if done.cost_usd is None else f"${done.cost_usd:.6f}"
    return (
        f"model {model} · {approx}{usage.prompt_tokens}+{usage.completion_tokens} tokens · "
        f"{cost} · {done.latency_ms:.0f} ms · cache {result.cache_label} · "
        f"trace {result.trace_id}"
    )


def _as_json(result: CallResult, ensemble: EnsembleResult | None = None) -> dict[str, Any]:
    done = result.completion
    data: dict[str, Any] = {
        "text": done.text,
        "model": done.model,
        "answered_by": done.answered_by,
        "provider": done.provider,
        "usage": {
            "prompt_tokens": done.usage.prompt_tokens,
            "completion_tokens": done.usage.completion_tokens,
            "total_tokens": done.usage.total_tokens,
            "estimated": done.usage.estimated,
        },
        "cost_usd": done.cost_usd,
        "latency_ms": round(done.latency_ms, 3),
        "ttft_ms": done.ttft_ms,
        "finish_reason": done.finish_reason,
        "cache": result.cache,
        "similarity": result.similarity,
        "retries": done.retries,
        "trace_id": result.trace_id,
        "warnings": list(result.warnings),
        "error": done.error,
    }
    if ensemble is not None:
        from promptdeck.core.compare.ensemble_result import ensemble_summary

        data["ensemble"] = ensemble_summary(ensemble)
    return data


def ensemble_line(ensemble: EnsembleResult) -> str:
    """One line: the ensemble's strategy, agreement and decision."""
    agreement = f" · agreement {ensemble.agreement:.2f}" if ensemble.agreement is not None else ""
    review = " · REVIEW" if ensemble.requires_review else ""
    head = f"ensemble {ensemble.name} · {ensemble.strategy}{agreement}{review}"
    return f"{head} · {ensemble.decision}"


async def _call(
    gateway: Gateway, spec: CallSpec, stream: bool
) -> tuple[CallResult, EnsembleResult | None]:
    from promptdeck.core.gateway.engine import CallResult

    try:
        if spec.model in gateway.config.ensembles:
            from promptdeck.core.compare.ensembles import run_ensemble

            ensemble = await run_ensemble(gateway, spec, spec.model)
            if stream and ensemble.result.completion.ok:
                click.echo(ensemble.result.completion.text)
            return ensemble.result, ensemble
        if not stream:
            return await gateway.call(spec), None
        result: CallResult | None = None
        async for event in gateway.stream(spec):
            if isinstance(event, CallResult):
                result = event
            else:
                click.echo(event, nl=False)
        assert result is not None
        if result.completion.ok:
            click.echo()
        return result, None
    finally:
        await gateway.aclose()


@click.command("run")
@click.argument("prompt")
@click.option("--var", "-v", "pairs", multiple=True, metavar="NAME=VALUE", help="A variable.")
@click.option("--model", "-m", help="Model or alias (default: the prompt's, else default_model).")
@click.option(
    "--param",
    "-p",
    "param_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A call parameter over the prompt's and the alias's, e.g. temperature=0.2 "
    "(the value read as TOML/JSON).",
)
@click.option("--stream", is_flag=True, help="Print the answer as it is generated.")
@click.option(
    "--cache",
    type=click.Choice(["read", "write", "off"]),
    default="read",
    show_default=True,
    help="read: serve from and fill the cache; write: only fill it; off: neither.",
)
@click.option("--repeat", type=click.IntRange(min=0), default=0, help="Repeat index (sample).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def run(
    options: Options,
    prompt: str,
    pairs: tuple[str, ...],
    model: str | None,
    param_pairs: tuple[str, ...],
    stream: bool,
    cache: str,
    repeat: int,
    as_json: bool,
) -> None:
    """Render PROMPT[@VERSION|@LABEL] with --var values, call the model, print the answer.

    Then one line with the model, tokens, cost, latency, cache state and trace id.
    Parameters: --param over the alias's, over the prompt's, over the workspace's.
    """
    from promptdeck.core.gateway import engine
    from promptdeck.core.gateway.prompt_call import prompt_call
    from promptdeck.core.providers.params import parse_params
    from promptdeck.core.providers.targets import check_model

    variables = parse_vars(pairs)
    overrides = parse_params(param_pairs)
    workspace = open_workspace(options)
    try:
        if model is not None:
            check_model(workspace.config, model)
        spec = prompt_call(
            workspace,
            prompt,
            variables,
            model=model,
            cache=cache,  # type: ignore[arg-type]
            repeat=repeat,
            overrides=overrides,
        )
        check_model(workspace.config, spec.model)
        gateway = engine.Gateway.for_workspace(workspace)
        result, ensemble = asyncio.run(_call(gateway, spec, stream and not as_json))
    finally:
        workspace.close()
    for warning in result.warnings:
        echo_warning(warning)
    if as_json:
        echo_json(_as_json(result, ensemble))
    done = result.completion
    if not done.ok:
        kind = str(done.error_kind or "")
        failure = _FAILURES.get(kind, RuntimeFailureError)
        raise failure(
            done.error or "the call failed",
            _HINTS.get(kind, f"see `promptdeck traces show {result.trace_id}`"),
        )
    if not as_json:
        if not stream:
            click.echo(done.text)
        click.echo(summary_line(result))
        if ensemble is not None:
            click.echo(ensemble_line(ensemble))
