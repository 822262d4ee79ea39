"""The sections of ``promptdeck.toml``: one pydantic model each, every field documented.

Every section forbids unknown keys, so a typo is an error naming the file, the line
and the key (:func:`promptdeck.config.parse_config`) rather than a silently ignored
setting. Import them from :mod:`promptdeck.config`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DEFAULT_MODEL",
    "ApprovalConfig",
    "BudgetConfig",
    "CacheConfig",
    "ConcurrencyConfig",
    "EnsembleConfig",
    "EvalsConfig",
    "GuardrailRuleConfig",
    "GuardrailsConfig",
    "LocalModelConfig",
    "ModelAlias",
    "ParamValue",
    "RenderConfig",
    "UIConfig",
    "WorkspaceConfig",
]


ParamValue = float | int | str | bool | list[str]
"""A call parameter's value in ``promptdeck.toml``."""

DEFAULT_MODEL = "local/smollm2-135m"
"""The built-in local model: SmolLM2-135M-Instruct, run in-process, no key needed."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelAlias(_Section):
    """A short name for a model, with its endpoint and default parameters."""

    model: str = Field(description="The litellm model string, e.g. 'openai/gpt-4o-mini'.")
    api_base: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible server (vLLM, LM Studio…)."
    )
    api_key_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the key (never the key itself).",
    )
    params: dict[str, ParamValue] = Field(
        default_factory=dict,
        description="Call parameters of this alias (temperature, max_tokens…): over the "
        "prompt's and the workspace's, under a call's own (`--param`).",
    )
    context_window: int | None = Field(
        default=None, gt=0, description="Context window in tokens, when litellm does not know it."
    )
    input_cost_per_token: float | None = Field(
        default=None,
        ge=0,
        description="Dollars per input token for calls through this alias only "
        "(default: litellm's price for `model`).",
    )
    output_cost_per_token: float | None = Field(
        default=None,
        ge=0,
        description="Dollars per output token for calls through this alias only "
        "(default: litellm's price for `model`).",
    )
    timeout: float | None = Field(
        default=None, gt=0, description="Seconds before a call times out (default: `timeout`)."
    )
    max_retries: int | None = Field(
        default=None, ge=0, le=20, description="Retries for this model (default: `max_retries`)."
    )
    on_rate_limit: str | None = Field(
        default=None, description="Model or alias to ask when this one is still rate-limited."
    )
    on_timeout: str | None = Field(
        default=None,
        description="'cached' (serve the last cached answer) or a model to ask after timeouts.",
    )
    on_error: str | None = Field(
        default=None, description="Model or alias to ask after any other failure."
    )


class LocalModelConfig(_Section):
    """A GGUF model run in-process by llama.cpp, usable as ``local/<alias>``."""

    path: str = Field(description="Path to the .gguf file (relative to the workspace).")
    context_window: int = Field(default=2048, gt=0, description="Context size to load with.")
    threads: int | None = Field(default=None, gt=0, description="CPU threads (default: all).")


class ConcurrencyConfig(_Section):
    """How many model calls run at once."""

    default: int = Field(default=8, ge=1, le=256, description="Concurrent calls per model.")
    per_model: dict[str, int] = Field(
        default_factory=dict, description="Overrides per model or alias."
    )


class CacheConfig(_Section):
    """Exact and semantic response caches."""

    exact: bool = Field(default=True, description="Serve identical requests from the cache.")
    semantic: bool = Field(
        default=False,
        description="Serve trivially reworded requests too (their text values compared).",
    )
    semantic_threshold: float = Field(
        default=0.92,
        ge=0,
        le=1,
        description="Similarity of the compared texts a semantic hit must reach (with equal "
        "match keys).",
    )
    shadow: bool = Field(
        default=False,
        description="Record what the semantic cache would have served, without serving it.",
    )
    ttl_days: float | None = Field(
        default=None, gt=0, description="Entries older than this are not served."
    )


class BudgetConfig(_Section):
    """A named spending limit."""

    limit_usd: float = Field(ge=0, description="The limit in dollars per period.")
    period: Literal["day", "month", "total"] = Field(default="month", description="The period.")
    alerts: list[float] = Field(
        default_factory=lambda: [0.5, 0.75, 0.9, 1.0],
        description="Fractions of the limit at which to warn.",
    )
    action: str = Field(
        default="warn",
        pattern=r"^(warn|block|switch_to:\s*\S+)$",
        description="'warn', 'block' or 'switch_to: <model>' once the limit is reached.",
    )
    models: list[str] = Field(
        default_factory=list, description="Models the budget covers (empty: all)."
    )


class ApprovalConfig(_Section):
    """What approving a prompt version requires."""

    require_passing_suites: bool = Field(
        default=False,
        description="Refuse approval unless every suite using the prompt has a finished run "
        "on that exact version with no failures.",
    )


class EvalsConfig(_Section):
    """How eval suites run."""

    allow_python: bool = Field(
        default=False,
        description="Allow `python` assertions, which run functions from workspace files.",
    )
    max_cost: float | None = Field(
        default=None, ge=0, description="Refuse to start (or stop) a run above this cost in $."
    )
    duplicate_threshold: float | None = Field(
        default=0.95,
        ge=0,
        le=1,
        description="Cosine similarity of two cases' inputs from which `prompts lint` and "
        "`eval` warn they are near-duplicates (false: no check).",
    )

    @field_validator("duplicate_threshold", mode="before")
    @classmethod
    def _false_is_off(cls, value: object) -> object:
        return None if value is False else value


class EnsembleConfig(_Section):
    """A named group of models answering together, usable anywhere a model is."""

    members: list[str] = Field(
        min_length=1, description="The models or aliases asked, all in parallel."
    )
    strategy: Literal["consensus", "majority", "judge"] = Field(
        default="consensus",
        description="'consensus' (semantic agreement), 'majority' (votes on normalised "
        "answers) or 'judge' (a judge model writes the final answer).",
    )
    agreement_threshold: float = Field(
        default=0.85,
        ge=0,
        le=1,
        description="Agreement below which the answer is flagged requires_review.",
    )
    prefer: str | None = Field(
        default=None, description="The member whose answer is returned when the members agree."
    )
    judge: str | None = Field(
        default=None, description="The judge strategy's model (default: `judge_model`)."
    )
    judge_params: dict[str, ParamValue] = Field(
        default_factory=dict,
        description="The judge call's own parameters (over its alias's; default: "
        "temperature 0, max_tokens 1024); the judged prompt's parameters never apply.",
    )
    min_answers: int | None = Field(
        default=None,
        ge=1,
        description="Members that must answer (default: 2, or 1 for a single member).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> EnsembleConfig:
        if self.prefer is not None and self.prefer not in self.members:
            raise ValueError(f"prefer {self.prefer!r} is not one of the members")
        if self.min_answers is not None and self.min_answers > len(self.members):
            raise ValueError(f"min_answers {self.min_answers} is more than the members")
        return self

    @property
    def required_answers(self) -> int:
        """How many members must answer for the ensemble to decide."""
        if self.min_answers is not None:
            return self.min_answers
        return 1 if len(self.members) == 1 else 2


class GuardrailRuleConfig(BaseModel):
    """One default guardrail: a scanner, its action and threshold, and its options."""

    model_config = ConfigDict(extra="allow", frozen=True)
    scanner: str = Field(description="The scanner's name (see `promptdeck guard --list`).")
    action: Literal["block", "redact", "warn", "rewrite"] = Field(
        default="warn", description="What a flag does: 'block', 'redact', 'warn' or 'rewrite'."
    )
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="Score at which it flags (default: the scanner's)."
    )


class GuardrailsConfig(_Section):
    """Guardrails applied to every prompt call whose prompt has no `guardrails:` block."""

    input: list[GuardrailRuleConfig] = Field(
        default_factory=list, description="Rules run on the rendered user messages."
    )
    output: list[GuardrailRuleConfig] = Field(
        default_factory=list, description="Rules run on the model's answer."
    )


class RenderConfig(_Section):
    """The bounds of every template render (the template sandbox)."""

    max_output_bytes: int = Field(
        default=1_000_000,
        ge=1_000,
        le=100_000_000,
        description="Bytes one rendered message may have; also the largest string or "
        "sequence an expression may build.",
    )
    timeout: float = Field(
        default=2.0, gt=0, le=600, description="Seconds one template may take to render."
    )


class UIConfig(_Section):
    """The workbench's look."""

    theme: str = Field(default="promptdeck-dark", description="Theme name.")


class WorkspaceConfig(_Section):
    """The whole ``promptdeck.toml``."""

    default_model: str = Field(default=DEFAULT_MODEL, description="Model used when none is named.")
    judge_model: str = Field(
        default=DEFAULT_MODEL, description="Model that grades model-graded assertions."
    )
    timeout: float = Field(default=120, gt=0, description="Seconds before a model call times out.")
    max_retries: int = Field(default=3, ge=0, le=20, description="Retries on 429, 5xx, timeouts.")
    params: dict[str, ParamValue] = Field(
        default_factory=dict,
        description="Default call parameters of every call, under the prompt's, the "
        "alias's and a call's own.",
    )
    models: dict[str, ModelAlias] = Field(default_factory=dict, description="Model aliases.")
    local_models: dict[str, LocalModelConfig] = Field(
        default_factory=dict, description="Extra GGUF models, usable as 'local/<alias>'."
    )
    concurrency: ConcurrencyConfig = Field(default_factory=ConcurrencyConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    budgets: dict[str, BudgetConfig] = Field(default_factory=dict, description="Named budgets.")
    ensembles: dict[str, EnsembleConfig] = Field(
        default_factory=dict, description="Named ensembles of models."
    )
    guardrails: GuardrailsConfig = Field(default_factory=GuardrailsConfig)
    approval: ApprovalConfig = Field(default_factory=ApprovalConfig)
    evals: EvalsConfig = Field(default_factory=EvalsConfig)
    render: RenderConfig = Field(default_factory=RenderConfig)
    ui: UIConfig = Field(default_factory=UIConfig)
    keymap: dict[str, str] = Field(
        default_factory=dict, description="Key binding overrides: binding id -> keys."
    )
    database_url: str | None = Field(
        default=None,
        description="A postgresql:// URL putting the workspace's tables on a shared "
        "PostgreSQL 15+ server (PROMPTDECK_DATABASE_URL wins); unset: "
        ".promptdeck/workspace.db (SQLite).",
    )

    def resolve_model(self, name: str) -> str:
        """Return the model string behind an alias (or ``name`` itself)."""
        alias = self.models.get(name)
        return alias.model if alias else name
