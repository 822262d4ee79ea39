"""A scripted deepeval judge: answers each schema deepeval asks for with canned JSON."""

from __future__ import annotations

import json
from typing import Any

from deepeval.models import DeepEvalBaseLLM


class ScriptedJudge(DeepEvalBaseLLM):
    """Replies by the name of the pydantic schema deepeval passes (JSON text, as an LLM would).

    Records every prompt, so tests can check what deepeval asked.
    """

    def __init__(self, replies: dict[str, Any], name: str = "scripted-judge") -> None:
        self.replies = replies
        self.prompts: list[tuple[str, str]] = []
        self._name = name
        super().__init__(name)

    def load_model(self, *args: Any, **kwargs: Any) -> ScriptedJudge:
        return self

    def _reply(self, prompt: Any, schema: Any) -> str:
        key = schema.__name__ if schema is not None else "text"
        self.prompts.append((key, str(prompt)))
        if key not in self.replies:
            raise KeyError(f"no scripted reply for schema {key}")
        reply = self.replies[key]
        return reply if isinstance(reply, str) else json.dumps(reply)

    def generate(self, prompt: Any, schema: Any = None, **kwargs: Any) -> str:
        return self._reply(prompt, schema)

    async def a_generate(self, prompt: Any, schema: Any = None, **kwargs: Any) -> str:
        return self._reply(prompt, schema)

    def get_model_name(self, *args: Any, **kwargs: Any) -> str:
        return self._name
