"""Human feedback on eval results, and fine-tuning data from rated results.

A good answer is one rated thumbs up or 4–5 (or a person's corrected answer); a bad
one is rated thumbs down or 1–2. Chat data holds the prompt and a good answer;
preference (DPO) pairs hold a good and a bad answer to the same prompt.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from sqlmodel import col, select

from promptdeck.core.evals.suites import SUITE_SUFFIX, Case, load_suite
from promptdeck.core.prompts.files import parse_prompt
from promptdeck.core.prompts.templating import render_prompt
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ConfigError, NotFoundError, PromptdeckError, UsageError
from promptdeck.store import runs_repo
from promptdeck.store.tables import Feedback, Prompt, PromptVersion, Run, RunCell

__all__ = ["ExportStats", "find_cell", "rated_examples"]

Format = Literal["chat-jsonl", "dpo-jsonl"]


def find_cell(
    workspace: Workspace,
    run_uid: str,
    case_index: int,
    *,
    model: str | None = None,
    prompt: str | None = None,
    repeat: int = 0,
) -> int:
    """Return the id of the one cell of a run that matches; say what to add when several do."""
    with workspace.session() as session:
        run = runs_repo.get_run(session, run_uid)
        if run is None or run.id is None:
            raise NotFoundError(f"no run {run_uid!r}", "see `promptdeck eval list`")
        rows = session.exec(
            select(RunCell, Prompt.name)
            .join(PromptVersion, col(PromptVersion.id) == col(RunCell.prompt_version_id))
            .join(Prompt, col(Prompt.id) == col(PromptVersion.prompt_id))
            .where(
                RunCell.run_id == run.id, RunCell.case_index == case_index, RunCell.repeat == repeat
            )
        ).all()
    matches = [
        cell
        for cell, name in rows
        if (model is None or cell.model == model) and (prompt is None or name == prompt)
    ]
    if not matches:
        raise NotFoundError(
            f"run {run_uid} has no cell for case {case_index} (repeat {repeat})"
            + (f", model {model}" if model else "")
            + (f", prompt {prompt}" if prompt else ""),
            "see `promptdeck eval show RUN_ID`",
        )
    if len(matches) > 1:
        options = ", ".join(sorted({f"{n} · {c.model}" for c, n in rows}))
        raise UsageError(
            f"case {case_index} of run {run_uid} has {len(matches)} cells ({options})",
            "add --model and/or --prompt to pick one",
        )
    assert matches[0].id is not None
    return matches[0].id


@dataclass
class ExportStats:
    """What an export wrote and skipped."""

    written: int = 0
    skipped: int = 0


def _good(f: Feedback) -> bool:
    return (f.thumbs or 0) > 0 or (f.rating or 0) >= 4


def _bad(f: Feedback) -> bool:
    return (f.thumbs or 0) < 0 or (f.rating is not None and f.rating <= 2)


def rated_examples(
    workspace: Workspace, fmt: Format, *, suite: str | None = None, stats: ExportStats | None = None
) -> Iterator[str]:
    """Yield JSONL lines of fine-tuning data from rated eval cells.

    Args:
        workspace: The workspace.
        fmt: ``chat-jsonl`` (messages ending in a good answer) or ``dpo-jsonl``
            (``prompt``, ``chosen``, ``rejected``).
        suite: Only cells of this suite's runs.
        stats: Filled with counts as lines are produced.
    """
    stats = stats if stats is not None else ExportStats()
    if fmt not in ("chat-jsonl", "dpo-jsonl"):
        raise UsageError(f"unknown format {fmt!r}", "use chat-jsonl or dpo-jsonl")
    with workspace.session() as session:
        rated = session.exec(
            select(Feedback, RunCell, Run.suite)
            .join(RunCell, col(RunCell.id) == col(Feedback.cell_id))
            .join(Run, col(Run.id) == col(RunCell.run_id))
            .order_by(col(Feedback.id))
        ).all()
        versions = {
            vid: (content, name)
            for vid, content, name in session.exec(
                select(PromptVersion.id, PromptVersion.content, Prompt.name).join(
                    Prompt, col(Prompt.id) == col(PromptVersion.prompt_id)
                )
            ).all()
        }
    rows = [
        (f, cell, suite_name, *versions[cell.prompt_version_id])
        for f, cell, suite_name in rated
        if cell.prompt_version_id in versions
    ]
    suites: dict[str, dict[str, Case]] = {}
    # (prompt content, case key) -> rendered messages, good answers, bad answers
    groups: dict[tuple[str, str], tuple[list[dict[str, str]], list[str], list[str]]] = {}
    seen_good: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for feedback, cell, suite_name, content, name in rows:
        if suite is not None and suite_name != suite:
            continue
        if suite_name not in suites:
            try:
                path = workspace.paths.suites / f"{suite_name}{SUITE_SUFFIX}"
                suites[suite_name or ""] = {
                    c.key: c for c in load_suite(path, workspace.paths).cases
                }
            except (ConfigError, NotFoundError):
                suites[suite_name or ""] = {}
        case = suites[suite_name or ""].get(cell.case_key)
        if case is None or cell.output is None:
            stats.skipped += 1
            continue
        key = (content, cell.case_key)
        if key not in groups:
            try:
                file = parse_prompt(content, f"{name}.prompt.yaml").file
                messages = render_prompt(
                    file, case.vars, allow_extra=True, config=workspace.config
                ).messages
            except PromptdeckError:
                stats.skipped += 1
                continue
            groups[key] = (messages, [], [])
        messages, good, bad = groups[key]
        answer = feedback.corrected or cell.output
        if feedback.corrected or _good(feedback):
            if answer not in seen_good[key]:
                seen_good[key].add(answer)
                good.append(answer)
            if feedback.corrected and cell.output != feedback.corrected:
                bad.append(cell.output)
        elif _bad(feedback):
            bad.append(cell.output)
    for messages, good, bad in groups.values():
        if fmt == "chat-jsonl":
            for answer in good:
                stats.written += 1
                yield (
                    json.dumps(
                        {"messages": [*messages, {"role": "assistant", "content": answer}]},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        else:
            for chosen in good:
                for rejected in dict.fromkeys(bad):
                    if rejected != chosen:
                        stats.written += 1
                        yield (
                            json.dumps(
                                {"prompt": messages, "chosen": chosen, "rejected": rejected},
                                ensure_ascii=False,
                            )
                            + "\n"
                        )
