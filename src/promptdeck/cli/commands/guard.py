"""``promptdeck guard``: run the guardrail scanners over a text or a JSONL file.

Needs no workspace, except ``--suite NAME``, which runs the workspace's guard suite
``suites/NAME.guard.yaml`` and reports precision, recall and F1 per scanner. Exit code
1 when any text is flagged (or a suite misses its ``min_recall``/``max_fpr``), 0
otherwise, 2 on bad input (a malformed JSONL line is reported as ``FILE:LINE``), 3 when
the local embedding model cannot be loaded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from promptdeck.cli.context import Options
from promptdeck.cli.output import echo_json, render_table
from promptdeck.errors import ConfigError, ExitCode, UsageError, location

if TYPE_CHECKING:
    from promptdeck.core.guardrails import ScanContext, Verdict
    from promptdeck.core.guardrails.suites import GuardReport

__all__ = ["guard"]

BATCH = 256
"""Lines scanned (and embedded) together in ``--input`` mode."""


def _names(scanners: str | None) -> list[str] | None:
    if scanners is None:
        return None
    names = [n.strip() for n in scanners.split(",") if n.strip()]
    if not names:
        raise UsageError(
            "--scanners is empty", "give names separated by commas, e.g. pii,injection"
        )
    return names


def _thresholds(values: Sequence[str]) -> dict[str, float]:
    from promptdeck.core.guardrails import get_scanner

    out = {}
    for value in values:
        name, sep, number = value.partition("=")
        try:
            threshold = float(number)
        except ValueError:
            threshold = -1.0
        if not sep or not name or not 0.0 <= threshold <= 1.0:
            raise UsageError(
                f"--threshold {value!r} is not NAME=NUMBER", "e.g. --threshold injection=0.7"
            )
        out[get_scanner(name.strip()).name] = threshold
    return out


def _read_json_file(path: Path, what: str) -> Any:
    from promptdeck.safeload.jsonload import loads_json
    from promptdeck.safeload.limits import read_text

    return loads_json(
        read_text(path, path, what=what), str(path), hint="it must be one JSON document"
    )


def _base_context(
    schema: Path | None,
    pattern: str | None,
    context_window: int | None,
    reference: Path | None,
    thresholds: dict[str, float],
) -> ScanContext:
    from promptdeck.core.guardrails import ScanContext

    json_schema = _read_json_file(schema, "schema") if schema else None
    if json_schema is not None and not isinstance(json_schema, dict):
        raise ConfigError(f"{schema}: a JSON Schema must be an object", "wrap it in {...}")
    reference_text = None
    if reference is not None:
        from promptdeck.safeload.limits import MAX_DATASET_BYTES, read_text

        reference_text = read_text(reference, reference, what="reference", limit=MAX_DATASET_BYTES)
    return ScanContext(
        json_schema=json_schema,
        pattern=pattern,
        context_window=context_window,
        reference=reference_text,
        thresholds=thresholds,
    )


def _span_text(verdict: Verdict) -> str:
    return "; ".join(f"{s.type} {s.text!r}" for s in verdict.spans[:3]) + (
        f" (+{len(verdict.spans) - 3})" if len(verdict.spans) > 3 else ""
    )


def _guard_text(text: str, names: list[str] | None, context: ScanContext, as_json: bool) -> int:
    from promptdeck.core.guardrails import scan_texts

    verdicts = scan_texts([text], names, context)[0]
    flagged = any(v.flagged for v in verdicts.values())
    if as_json:
        echo_json(
            {
                "flagged": flagged,
                "scanners": {name: v.to_dict() for name, v in verdicts.items()},
            }
        )
    else:
        rows = [
            (name, "yes" if v.flagged else "no", f"{v.score:.2f}", _span_text(v) or None, v.reason)
            for name, v in verdicts.items()
        ]
        click.echo(render_table(("SCANNER", "FLAGGED", "SCORE", "FINDINGS", "REASON"), rows))
    return ExitCode.CHECK_FAILED if flagged else ExitCode.OK


def _read_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Read and check every line first, so that bad input writes nothing."""
    from promptdeck.safeload.jsonload import json_lines
    from promptdeck.safeload.limits import MAX_DATASET_BYTES, read_text

    if not path.is_file():
        raise UsageError(f"cannot read {path}: no such file", "check the --input path")
    text = read_text(path, path, what="input", limit=MAX_DATASET_BYTES)
    records = []
    for number, record in json_lines(text, str(path)):
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise ConfigError(
                f'{location(path, number)}: expected an object with a string "text"',
                'each line must be one JSON object: {"id": ..., "text": "..."}',
            )
        if "id" not in record:
            raise ConfigError(
                f'{location(path, number)}: missing "id"',
                'give each line an "id" (a string or a number)',
            )
        for key in ("input", "reference"):
            if key in record and not isinstance(record[key], str):
                raise ConfigError(
                    f'{location(path, number)}: "{key}" must be a string', "fix the line"
                )
        records.append((number, record))
    return records


@contextmanager
def _open_output(path: str | None) -> Iterator[TextIO]:
    if path is None or path == "-":
        yield sys.stdout
        return
    try:
        handle = Path(path).open("w", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}", "check the --output path") from exc
    with handle:
        yield handle


def _guard_file(
    source: Path, target: str | None, names: list[str] | None, context: ScanContext
) -> int:
    import dataclasses

    from promptdeck.core.guardrails import resolve_scanners, scan_texts

    resolve_scanners(names)  # unknown names fail before any work
    records = _read_lines(source)
    flagged_count = 0
    with _open_output(target) as out:
        for first in range(0, len(records), BATCH):
            chunk = [record for _, record in records[first : first + BATCH]]
            contexts = [
                dataclasses.replace(
                    context,
                    input_text=r.get("input", context.input_text),
                    reference=r.get("reference", context.reference),
                )
                for r in chunk
            ]
            results = scan_texts([r["text"] for r in chunk], names, contexts)
            for record, verdicts in zip(chunk, results, strict=True):
                flagged = any(v.flagged for v in verdicts.values())
                flagged_count += flagged
                line = {
                    "id": record["id"],
                    "flagged": flagged,
                    "scanners": {
                        name: {
                            "flagged": v.flagged,
                            "score": round(v.score, 4),
                            "spans": [s.to_dict() for s in v.spans],
                        }
                        for name, v in verdicts.items()
                    },
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    where = "" if target in (None, "-") else f" -> {target}"
    click.echo(f"guard: {len(records)} texts, {flagged_count} flagged{where}", err=True)
    return ExitCode.CHECK_FAILED if flagged_count else ExitCode.OK


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_report(report: GuardReport) -> None:
    rows = [
        (
            m.scanner,
            str(m.cases),
            str(m.tp),
            str(m.fp),
            str(m.fn),
            _rate(m.precision),
            _rate(m.recall),
            _rate(m.f1),
        )
        for m in report.scanners
    ]
    header = ("SCANNER", "CASES", "TP", "FP", "FN", "PRECISION", "RECALL", "F1")
    click.echo(render_table(header, rows, 100))
    click.echo(
        f"benign: {report.benign} cases, {report.benign_flagged} flagged, "
        f"false-positive rate {_rate(report.fpr)}"
    )


def _guard_suite(options: Options, name: str, as_json: bool) -> int:
    from promptdeck.core.guardrails.suites import (
        find_guard_suite,
        load_guard_suite,
        run_guard_suite,
        save_report,
    )
    from promptdeck.paths import find_workspace

    paths = find_workspace(options.workspace)
    suite = load_guard_suite(find_guard_suite(paths, name), paths)
    report = run_guard_suite(suite)
    save_report(paths, report)
    if as_json:
        echo_json(report.to_dict())
    else:
        _print_report(report)
    for failure in report.failures:
        click.echo(f"failed: {failure}", err=True)
    return ExitCode.OK if report.passed else ExitCode.CHECK_FAILED


@click.command()
@click.argument("text", required=False)
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help='A JSONL file: one {"id", "text"} object per line (optional "input": the prompt an '
    'answer came from, for pii-leak; "reference": context for grounding).',
)
@click.option(
    "--output",
    "output_path",
    metavar="FILE",
    help='Where --input results go, one {"id", "flagged", "scanners"} line each (default: stdout).',
)
@click.option(
    "--scanners",
    metavar="NAMES",
    help="Scanners to run, separated by commas (default: pii, secrets, injection, jailbreak, "
    "toxicity).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--list", "list_only", is_flag=True, help="List the scanners and exit.")
@click.option("--context-window", type=click.IntRange(min=1), help="Tokens, for context-size.")
@click.option(
    "--schema",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A JSON Schema file the text must match (format).",
)
@click.option("--pattern", help="A regular expression the whole text must match (format).")
@click.option(
    "--reference",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A file with the context the text must be grounded in (grounding).",
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    metavar="NAME=SCORE",
    help="Flag at this score instead of the scanner's default (repeatable).",
)
@click.option(
    "--suite",
    "suite_name",
    metavar="NAME",
    help="Run the workspace's guard suite suites/NAME.guard.yaml: precision, recall and F1 "
    "per scanner, false-positive rate on benign cases.",
)
@click.pass_obj
def guard(
    options: Options,
    text: str | None,
    input_path: Path | None,
    output_path: str | None,
    scanners: str | None,
    as_json: bool,
    list_only: bool,
    context_window: int | None,
    schema: Path | None,
    pattern: str | None,
    reference: Path | None,
    thresholds: tuple[str, ...],
    suite_name: str | None,
) -> int:
    """Scan TEXT (or each line of --input) with the guardrail scanners.

    Runs locally: PII, secrets, prompt injection, jailbreak and toxicity by
    default; output-side scanners (pii-leak, format, refusal, grounding) and
    context-size on request with --scanners. Exit code 1 when anything is flagged.
    With --suite, exit code 1 when the suite's min_recall or max_fpr is not met.
    """
    if list_only:
        from promptdeck.core.guardrails import scanners as all_scanners

        specs = all_scanners().values()
        if as_json:
            echo_json(
                [
                    {
                        "name": s.name,
                        "sides": list(s.sides),
                        "default": s.default,
                        "description": s.description,
                    }
                    for s in specs
                ]
            )
        else:
            rows = [
                (s.name, "/".join(s.sides), "yes" if s.default else "no", s.description)
                for s in specs
            ]
            click.echo(render_table(("SCANNER", "SIDE", "DEFAULT", "DESCRIPTION"), rows, 90))
        return ExitCode.OK
    if suite_name is not None:
        if text is not None or input_path is not None:
            raise UsageError("--suite takes no TEXT or --input", "run them separately")
        return _guard_suite(options, suite_name, as_json)
    if (text is None) == (input_path is None):
        raise UsageError(
            "give either TEXT or --input FILE",
            "e.g. `promptdeck guard 'some text'` or `promptdeck guard --input in.jsonl`",
        )
    if output_path is not None and input_path is None:
        raise UsageError("--output needs --input", "or drop --output to print the verdicts")
    names = _names(scanners)
    context = _base_context(schema, pattern, context_window, reference, _thresholds(thresholds))
    if input_path is not None:
        if as_json:
            raise UsageError("--json applies to TEXT only", "--input always writes JSONL")
        return _guard_file(input_path, output_path, names, context)
    assert text is not None
    return _guard_text(text, names, context, as_json)
