"""A deepeval judge that asks its questions through the gateway.

So any gateway model can grade (the local model, an OpenAI-compatible server, any
litellm model), with retries, caching, cost and traces like every other call.
deepeval is imported only when a judge is made.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from promptdeck.core.gateway.engine import CallSpec, Gateway
from promptdeck.core.workspace.offline import apply_offline_environment

__all__ = ["JudgeError", "extract_json", "make_judge"]

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class JudgeError(RuntimeError):
    """The judge model did not answer, or not in the shape asked for."""


def extract_json(text: str) -> str:
    """Return the JSON object in a model's answer (fenced or bare)."""
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start != -1 and end > start else text


def make_judge(
    gateway: Gateway, model: str, *, run_id: int | None = None, state_dir: Path | None = None
) -> Any:
    """Return a ``deepeval.models.DeepEvalBaseLLM`` that calls ``model`` through ``gateway``.

    Args:
        gateway: The gateway (grading must run on its event loop).
        model: The judge model (alias or model string).
        run_id: The run the judge's calls belong to (recorded on their traces).
        state_dir: The workspace's state folder (deepeval's cache goes there).
    """
    apply_offline_environment(state_dir)
    from deepeval.models import DeepEvalBaseLLM

    class GatewayJudge(DeepEvalBaseLLM):  # type: ignore[no-untyped-call]
        def __init__(self) -> None:
            self.judge_model = model
            super().__init__(model)

        def load_model(self) -> GatewayJudge:
            return self

        def get_model_name(self) -> str:
            return f"promptdeck:{model}"

        async def a_generate(self, prompt: str, schema: Any = None) -> Any:
            response_format = schema.model_json_schema() if schema is not None else None
            result = await gateway.call(
                CallSpec(
                    model=model,
                    messages=[{"role": "user", "content": prompt}],
                    params={"temperature": 0},
                    response_format=response_format,
                    semantic=False,
                    name="judge",
                    kind="judge",
                    run_id=run_id,
                )
            )
            completion = result.completion
            if completion.error or completion.text is None:
                raise JudgeError(f"judge {model} failed: {completion.error or 'no answer'}")
            if schema is None:
                return completion.text
            try:
                return schema.model_validate_json(extract_json(completion.text))
            except ValueError as exc:
                raise JudgeError(f"judge {model} answered outside the schema: {exc}") from exc

        def generate(self, prompt: str, schema: Any = None) -> Any:
            raise JudgeError("promptdeck grades with deepeval's async metrics only (a_measure)")

    return GatewayJudge()
