"""Lint: each finding with severity, location and message; errors for real problems only."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.config import WorkspaceConfig
from promptdeck.core.prompts.lint import Severity, lint_workspace
from promptdeck.core.providers.tokens import TokenCounting
from promptdeck.errors import NotFoundError
from promptdeck.paths import WorkspacePaths


def fake_tokens(window: int | None = 1000):  # type: ignore[no-untyped-def]
    def count(model: str, messages: list[dict[str, str]]) -> tuple[int, int | None]:
        return sum(len(m["content"].split()) for m in messages), window

    return count


def write(paths: WorkspacePaths, name: str, text: str) -> Path:
    path = paths.prompts / f"{name}.prompt.yaml"
    path.write_text(text)
    return path


def test_the_demo_workspace_has_no_errors(demo_paths: WorkspacePaths) -> None:
    results = lint_workspace(demo_paths, WorkspaceConfig(), count_tokens=fake_tokens())
    errors = [f for fs in results.values() for f in fs if f.severity is Severity.ERROR]
    assert errors == []
    assert "suites" not in results  # every demo suite loads


def test_undeclared_and_unused_variables(demo_paths: WorkspacePaths) -> None:
    write(
        demo_paths,
        "greet",
        "name: greet\ntemplate: |\n  Hello {{ who }}\n  from {{ sender }}\n"
        "variables:\n  who:\n  unused:\n",
    )
    findings = lint_workspace(demo_paths, WorkspaceConfig(), ["greet"])["greet"]
    assert [(f.severity, f.location, f.rule) for f in findings] == [
        (Severity.ERROR, "prompts/greet.prompt.yaml:4", "undeclared-variable"),
        (Severity.WARNING, "prompts/greet.prompt.yaml:7", "unused-variable"),
    ]
    assert "{{ sender }}" in findings[0].message


def test_suite_cases_missing_a_required_variable(demo_paths: WorkspacePaths) -> None:
    suite = demo_paths.suites / "support.suite.yaml"
    suite.write_text(suite.read_text().replace("    company_name: Acme Cloud\n", ""))
    findings = lint_workspace(demo_paths, WorkspaceConfig(), ["customer-support"])[
        "customer-support"
    ]
    missing = [f for f in findings if f.rule == "case-missing-variable"]
    assert missing and all(f.severity is Severity.ERROR for f in missing)
    assert missing[0].location.startswith("suites/support.suite.yaml:")
    assert any(f.location.startswith("datasets/support_tickets.jsonl:") for f in missing)
    assert "company_name" in missing[0].message


def test_context_window_overflow_is_an_error(demo_paths: WorkspacePaths) -> None:
    findings = lint_workspace(
        demo_paths, WorkspaceConfig(), ["summarize"], count_tokens=fake_tokens(50)
    )["summarize"]
    assert [f.rule for f in findings if f.severity is Severity.ERROR] == ["context-window"]
    fits = lint_workspace(
        demo_paths, WorkspaceConfig(), ["summarize"], count_tokens=fake_tokens(5000)
    )
    assert "fits its context window of 5000" in fits["summarize"][0].message


def test_secrets_are_errors_and_pii_warnings(demo_paths: WorkspacePaths) -> None:
    path = write(demo_paths, "leaky", "name: leaky\ntemplate: |\n  key sk-123\n  mail a@b.co\n")

    def scan(text: str) -> list[tuple[int, str, bool]]:
        return [(text.index("sk-"), "openai-key", True), (text.index("a@b"), "email", False)]

    findings = lint_workspace(demo_paths, WorkspaceConfig(), ["leaky"], scan_text=scan)["leaky"]
    assert [(f.severity, f.location, f.rule) for f in findings] == [
        (Severity.ERROR, "prompts/leaky.prompt.yaml:3", "secret"),
        (Severity.WARNING, "prompts/leaky.prompt.yaml:4", "pii"),
    ]
    assert path.read_text().startswith("name: leaky")


def test_a_broken_file_and_a_broken_suite_are_reported(demo_paths: WorkspacePaths) -> None:
    write(demo_paths, "bad", "name: bad\ntemplate: [\n")
    (demo_paths.suites / "broken.suite.yaml").write_text("prompts: [bad]\ncases: []\n")
    results = lint_workspace(demo_paths, WorkspaceConfig())
    assert results["bad"][0].location == "prompts/bad.prompt.yaml:3"
    assert results["suites"][0].location == "suites/broken.suite.yaml:2"


def test_unknown_prompt_name(demo_paths: WorkspacePaths) -> None:
    with pytest.raises(NotFoundError):
        lint_workspace(demo_paths, WorkspaceConfig(), ["nope"])


@pytest.mark.local_model
def test_local_token_counts_use_the_models_own_tokenizer(tmp_path: Path) -> None:
    counting = TokenCounting(WorkspaceConfig(), tmp_path)
    short = counting.count("local/smollm2-135m", [{"role": "user", "content": "Hello"}])
    long = counting.count("local/smollm2-135m", [{"role": "user", "content": "Hello " * 50}])
    assert 1 < short < long
    assert counting.context_window("local/smollm2-135m") == 2048


@pytest.mark.parametrize(
    ("template", "refused"),
    [
        ("{{ text * 1000000000 }}", "'<text>' * 1000000000 would make"),
        ("{{ text|center(1000000000) }}", "center would make"),
        ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(text) }}", "nested deeper than 40"),
        ("{% for i in range(100000) %}{{ text * 50 }}{% endfor %}", "passed 1,000,000 bytes"),
    ],
)
def test_lint_fails_on_what_the_sandbox_refuses(
    demo_paths: WorkspacePaths, template: str, refused: str
) -> None:
    write(
        demo_paths,
        "evil",
        f"name: evil\ntemplate: '{template}'\nvariables:\n  text:\n    required: true\n",
    )
    findings = lint_workspace(demo_paths, WorkspaceConfig(), ["evil"])["evil"]
    errors = [f for f in findings if f.severity is Severity.ERROR]
    assert [(f.rule, f.location) for f in errors] == [
        ("render-refused", "prompts/evil.prompt.yaml")
    ]
    assert errors[0].message.startswith("prompt 'evil': template: refused by the template sandbox")
    assert refused in errors[0].message


def test_lint_uses_the_configured_render_bounds(demo_paths: WorkspacePaths) -> None:
    write(demo_paths, "long", "name: long\ntemplate: '{{ \"x\" * 5000 }}'\n")
    assert not lint_workspace(demo_paths, WorkspaceConfig(), ["long"])["long"]
    small = WorkspaceConfig.model_validate({"render": {"max_output_bytes": 1000}})
    findings = lint_workspace(demo_paths, small, ["long"])["long"]
    assert [f.rule for f in findings] == ["render-refused"]
    assert "(limit 1,000)" in findings[0].message
