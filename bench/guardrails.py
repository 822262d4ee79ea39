"""Guardrails benchmark: accuracy of the scanners on held-out public data, and throughput.

Run: .venv/bin/python bench/guardrails.py [--data DIR] [--json] [--record]

The data is ``../shared/datasets`` (see its READMEs). Every row is assigned to a
``train`` (60 %), ``validation`` (20 %) or ``test`` (20 %) split, stratified by
(label, source) with a fixed seed: rows of each stratum are ordered by
``sha1(seed:id)`` and cut at 60 % and 80 %. ``scripts/train_guardrails.py`` trains
on the permissively licensed ``train`` rows and picks thresholds on ``validation``;
this benchmark reports the ``test`` split only.

Measured:
- injection + jailbreak: recall at the shipped thresholds, and the false-positive
  rate on the benign prompts (target: recall >= 0.90 at FPR <= 0.05), per source too;
  beside it, the share flagged of other ordinary text (:func:`load_other_benign`: eval
  questions, PII sentences, non-toxic rows), per source;
- PII: span-level recall and precision on e-mail, phone, credit card, SSN, IBAN and IP
  (target: recall >= 0.95, precision >= 0.90). A found span counts when its type
  matches and it overlaps the gold span by at least half of their union (IoU >= 0.5);
  exact-boundary figures are printed beside them;
- toxicity: F1 (target >= 0.90), per source too;
- throughput: texts per second through all input scanners together (``pii``,
  ``secrets``, ``injection``, ``jailbreak``, ``toxicity``, ``context-size``) after the
  model is loaded, on all test texts of the three sets, with 2 onnxruntime threads
  (target >= 200 texts/s); the best and the median of 3 runs, and the process's CPU
  time. The machine's load average is printed beside it: other work on the same
  cores slows the model down (the CPU time much less so).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "datasets"
SEED = "promptdeck-guardrails-2026"
SPLITS = ("train", "validation", "test")
STRUCTURED_PII = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
)
ATTACK_LABELS = ("injection", "jailbreak")
SOURCES_MD = ROOT / "src" / "promptdeck" / "core" / "guardrails" / "models" / "SOURCES.md"
MEASURED_HEADING = "## Measured on the held-out test split"
"""The section of ``models/SOURCES.md`` that ``--record`` writes (training keeps it)."""


@dataclass(frozen=True)
class Row:
    """One labelled example."""

    id: str
    text: str
    label: str
    source: str
    license: str
    spans: tuple[tuple[int, int, str], ...] = ()


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def split_rows(rows: Iterable[Row], seed: str = SEED) -> dict[str, list[Row]]:
    """Split rows 60/20/20, stratified by (label, source), with a fixed seed."""
    strata: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        strata[(row.label, row.source)].append(row)
    out: dict[str, list[Row]] = {name: [] for name in SPLITS}
    for key in sorted(strata):
        ordered = sorted(
            strata[key], key=lambda r: hashlib.sha1(f"{seed}:{r.id}".encode()).hexdigest()
        )
        n = len(ordered)
        cut1, cut2 = round(n * 0.6), round(n * 0.8)
        out["train"] += ordered[:cut1]
        out["validation"] += ordered[cut1:cut2]
        out["test"] += ordered[cut2:]
    return out


def load_injection(data: Path = DEFAULT_DATA) -> dict[str, list[Row]]:
    """Injection, jailbreak and benign prompts, split."""
    rows = [
        Row(r["id"], r["text"], r["label"], r["source"], r["license"])
        for r in _read_jsonl(data / "injection" / "injection.jsonl")
    ]
    return split_rows(rows)


def load_harmful(data: Path = DEFAULT_DATA) -> dict[str, list[Row]]:
    """Plain harmful requests (neither injection nor benign), split."""
    rows = [
        Row(r["id"], r["text"], r["label"], r["source"], r["license"])
        for r in _read_jsonl(data / "injection" / "harmful_requests.jsonl")
    ]
    return split_rows(rows)


def load_toxicity(data: Path = DEFAULT_DATA) -> dict[str, list[Row]]:
    """Toxic and non-toxic texts (label ``toxic`` / ``clean``), split."""
    rows = [
        Row(r["id"], r["text"], "toxic" if r["toxic"] else "clean", r["source"], r["license"])
        for r in _read_jsonl(data / "toxicity" / "toxicity.jsonl")
    ]
    return split_rows(rows)


def load_other_benign(data: Path = DEFAULT_DATA) -> dict[str, list[Row]]:
    """Ordinary texts from the other data sets, as benign prompts for injection/jailbreak.

    The questions of ``evals/`` (GSM8K, TruthfulQA), the sentences of ``pii/`` and the
    non-toxic rows of ``toxicity/``: each keeps the split its own set gives it (PII and
    toxicity rows the same as in :func:`load_pii` and :func:`load_toxicity`), so the
    ``test`` rows are held out everywhere. Label ``benign``; rows of every licence are
    returned (the training script keeps only the permissive ones).
    """
    evals = []
    for name in ("gsm8k_test.jsonl", "truthfulqa.jsonl"):
        for r in _read_jsonl(data / "evals" / name):
            evals.append(Row(r["id"], r["question"], "benign", f"evals/{name}", r["license"]))
    out = split_rows(evals)
    for split, rows in load_pii(data).items():
        out[split] += [Row(r.id, r.text, "benign", f"pii: {r.source}", r.license) for r in rows]
    for split, rows in load_toxicity(data).items():
        out[split] += [
            Row(r.id, r.text, "benign", f"toxicity (clean): {r.source}", r.license)
            for r in rows
            if r.label == "clean"
        ]
    return out


def load_pii(data: Path = DEFAULT_DATA) -> dict[str, list[Row]]:
    """PII texts with gold spans (label: ``pii`` or ``none``), split."""
    rows = [
        Row(
            r["id"],
            r["text"],
            "pii" if r["spans"] else "none",
            r["source"],
            r["license"],
            tuple((s["start"], s["end"], s["type"]) for s in r["spans"]),
        )
        for r in _read_jsonl(data / "pii" / "pii.jsonl")
    ]
    return split_rows(rows)


# ---------------------------------------------------------------- PII


def _iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0


def pii_counts(
    rows: Sequence[Row], find: Callable[[str], Sequence[tuple[int, int, str]]]
) -> dict[str, dict[str, int]]:
    """Count true positives, gold and predicted spans per structured type.

    Returns:
        ``{type: {"tp", "tp_exact", "gold", "pred"}}`` plus an ``ALL`` entry.
    """
    counts: dict[str, dict[str, int]] = {
        t: {"tp": 0, "tp_exact": 0, "gold": 0, "pred": 0} for t in (*STRUCTURED_PII, "ALL")
    }
    for row in rows:
        gold = [s for s in row.spans if s[2] in STRUCTURED_PII]
        pred = [s for s in find(row.text) if s[2] in STRUCTURED_PII]
        used: set[int] = set()
        for kind in STRUCTURED_PII:
            counts[kind]["gold"] += sum(1 for g in gold if g[2] == kind)
            counts[kind]["pred"] += sum(1 for p in pred if p[2] == kind)
        for p in pred:
            for gi, g in enumerate(gold):
                if gi in used or g[2] != p[2] or _iou((p[0], p[1]), (g[0], g[1])) < 0.5:
                    continue
                used.add(gi)
                counts[p[2]]["tp"] += 1
                counts[p[2]]["tp_exact"] += int((p[0], p[1]) == (g[0], g[1]))
                break
    for key in ("tp", "tp_exact", "gold", "pred"):
        counts["ALL"][key] = sum(counts[t][key] for t in STRUCTURED_PII)
    return counts


def _ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


# ---------------------------------------------------------------- measurements

INPUT_SCANNERS = ("pii", "secrets", "injection", "jailbreak", "toxicity", "context-size")


def _flags(texts: Sequence[str], names: Sequence[str]) -> list[dict[str, bool]]:
    from promptdeck.core.guardrails import scan_texts

    return [
        {name: verdict.flagged for name, verdict in verdicts.items()}
        for verdicts in scan_texts(texts, names)
    ]


def measure_attacks(data: Path) -> dict[str, Any]:
    """Injection + jailbreak recall and benign FPR on the test split."""
    rows = load_injection(data)["test"]
    flags = _flags([r.text for r in rows], ["injection", "jailbreak"])
    harmful = load_harmful(data)["test"]
    harmful_flags = _flags([r.text for r in harmful], ["injection", "jailbreak"])
    other = load_other_benign(data)["test"]
    other_flags = _flags([r.text for r in other], ["injection", "jailbreak"])
    other_source: dict[str, list[bool]] = defaultdict(list)
    for row, flag in zip(other, other_flags, strict=True):
        source = row.source.split(" prompts/")[0]  # one line for all ToxiGen files
        other_source[source].append(flag["injection"] or flag["jailbreak"])
    per_source: dict[tuple[str, str], list[bool]] = defaultdict(list)
    per_label: dict[str, list[bool]] = defaultdict(list)
    for row, flag in zip(rows, flags, strict=True):
        hit = flag["injection"] or flag["jailbreak"]
        per_source[(row.label, row.source)].append(hit)
        per_label[row.label].append(hit)
    attacks = per_label["injection"] + per_label["jailbreak"]
    return {
        "recall": sum(attacks) / len(attacks),
        "attacks": len(attacks),
        "fpr": sum(per_label["benign"]) / len(per_label["benign"]),
        "benign": len(per_label["benign"]),
        "per_label": {k: (sum(v) / len(v), len(v)) for k, v in per_label.items()},
        "per_source": {f"{k[0]}: {k[1]}": (sum(v) / len(v), len(v)) for k, v in per_source.items()},
        "harmful_flagged": (
            sum(f["injection"] or f["jailbreak"] for f in harmful_flags) / len(harmful_flags),
            len(harmful_flags),
        ),
        "other_benign": {k: (sum(v) / len(v), len(v)) for k, v in other_source.items()},
        "other_fpr": (
            sum(f["injection"] or f["jailbreak"] for f in other_flags) / len(other_flags),
            len(other_flags),
        ),
    }


def measure_pii(data: Path) -> dict[str, dict[str, int]]:
    """Span counts of the ``pii`` scanner on the test split."""
    from promptdeck.core.guardrails import find_pii

    def find(text: str) -> list[tuple[int, int, str]]:
        return [(s.start, s.end, s.type) for s in find_pii(text)]

    return pii_counts(load_pii(data)["test"], find)


def _f1(flags: Sequence[bool], truth: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(1 for f, t in zip(flags, truth, strict=True) if f and t)
    precision = _ratio(tp, sum(flags))
    recall = _ratio(tp, sum(truth))
    f1 = 2 * tp / (sum(flags) + sum(truth)) if (sum(flags) + sum(truth)) else float("nan")
    return precision, recall, f1


def measure_toxicity(data: Path) -> dict[str, Any]:
    """Toxicity precision, recall and F1 on the test split, overall and per source."""
    rows = load_toxicity(data)["test"]
    flags = [f["toxicity"] for f in _flags([r.text for r in rows], ["toxicity"])]
    truth = [r.label == "toxic" for r in rows]
    per_source: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        per_source[row.source.split(" prompts/")[0]].append(i)
    return {
        "overall": (*_f1(flags, truth), len(rows)),
        "all_toxic_baseline_f1": _f1([True] * len(truth), truth)[2],
        "per_source": {
            source: (
                *_f1([flags[i] for i in idx], [truth[i] for i in idx]),
                len(idx),
            )
            for source, idx in sorted(per_source.items())
        },
    }


def measure_throughput(data: Path, repeats: int = 3) -> dict[str, Any]:
    """Texts per second through all input scanners, after loading, on test texts.

    Each set is timed ``repeats`` times; the fastest run is the headline (other work on
    the machine only ever slows a run down), the median is reported beside it.
    """
    import statistics

    from promptdeck.core.guardrails import ScanContext, scan_texts
    from promptdeck.core.guardrails.classifier_model import CLASSIFIER_TOKENS, classifier_embedder

    context = ScanContext(context_window=8192)

    sets = {
        "injection": [r.text for r in load_injection(data)["test"]],
        "toxicity": [r.text for r in load_toxicity(data)["test"]],
        "pii": [r.text for r in load_pii(data)["test"]],
    }
    scan_texts(["warm up the model and the heads"], INPUT_SCANNERS, context)
    embedder = classifier_embedder()
    out: dict[str, Any] = {"threads": embedder.threads, "load_before": os.getloadavg()[0]}
    total_n, total_s, total_median, total_cpu = 0, 0.0, 0.0, 0.0
    for name, texts in sets.items():
        runs, cpu = [], []
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            scan_texts(texts, INPUT_SCANNERS, context)
            runs.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        seconds, median = min(runs), statistics.median(runs)
        tokens = embedder.count_tokens(texts)
        mean_tokens = sum(min(n + 2, CLASSIFIER_TOKENS) for n in tokens) / len(texts)
        out[name] = (len(texts) / seconds, len(texts), mean_tokens, len(texts) / median, min(cpu))
        total_n += len(texts)
        total_s += seconds
        total_median += median
        total_cpu += min(cpu)
    out["all"] = (total_n / total_s, total_n, float("nan"), total_n / total_median, total_cpu)
    out["load_after"] = os.getloadavg()[0]
    return out


# ---------------------------------------------------------------- report


def _fmt(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"  # NaN check


def report(results: dict[str, Any]) -> str:
    """Render the results as markdown."""
    attacks, pii, tox, speed = (
        results["attacks"],
        results["pii"],
        results["toxicity"],
        results["throughput"],
    )
    pii_all = pii["ALL"]
    recall = _ratio(pii_all["tp"], pii_all["gold"])
    precision = _ratio(pii_all["tp"], pii_all["pred"])
    lines = [
        "| measure | target | measured | met |",
        "|---|---|---|---|",
        f"| injection + jailbreak recall (n={attacks['attacks']}) | >= 0.90 "
        f"| {_fmt(attacks['recall'])} | {'yes' if attacks['recall'] >= 0.90 else 'no'} |",
        f"| false-positive rate on benign prompts (n={attacks['benign']}) | <= 0.05 "
        f"| {_fmt(attacks['fpr'])} | {'yes' if attacks['fpr'] <= 0.05 else 'no'} |",
        f"| PII span recall, structured types (n={pii_all['gold']}) | >= 0.95 "
        f"| {_fmt(recall)} | {'yes' if recall >= 0.95 else 'no'} |",
        f"| PII span precision, structured types (n={pii_all['pred']}) | >= 0.90 "
        f"| {_fmt(precision)} | {'yes' if precision >= 0.90 else 'no'} |",
        f"| toxicity F1 (n={tox['overall'][3]}) | >= 0.90 | {_fmt(tox['overall'][2])} "
        f"| {'yes' if tox['overall'][2] >= 0.90 else 'no'} |",
        f"| throughput, all 6 input scanners (texts/s, {speed['threads']} threads, "
        f"n={speed['all'][1]}) | >= 200 | {speed['all'][0]:.0f} "
        f"| {'yes' if speed['all'][0] >= 200 else 'no'} |",
        "",
        "Injection + jailbreak, flagged share per label and source (test split):",
        "",
        "| label: source | n | flagged |",
        "|---|---|---|",
    ]
    for key, (share, n) in sorted(attacks["per_source"].items()):
        lines.append(f"| {key} | {n} | {_fmt(share)} |")
    share, n = attacks["harmful_flagged"]
    lines += [
        f"| (not an attack) plain harmful requests | {n} | {_fmt(share)} |",
        "",
        "Other ordinary text (eval questions, PII sentences, non-toxic rows; test split, not in",
        "the headline false-positive rate), share flagged by injection or jailbreak:",
        "",
        "| source | n | flagged |",
        "|---|---|---|",
    ]
    for key, (share, n) in sorted(attacks["other_benign"].items()):
        lines.append(f"| {key} | {n} | {_fmt(share)} |")
    share, n = attacks["other_fpr"]
    lines += [
        f"| all | {n} | {_fmt(share)} |",
        "",
        "PII per type (a found span counts at IoU >= 0.5; exact = same boundaries):",
        "",
        "| type | gold | found | recall | precision | exact recall |",
        "|---|---|---|---|---|---|",
    ]
    for kind in (*STRUCTURED_PII, "ALL"):
        c = pii[kind]
        lines.append(
            f"| {kind} | {c['gold']} | {c['pred']} | {_fmt(_ratio(c['tp'], c['gold']))} "
            f"| {_fmt(_ratio(c['tp'], c['pred']))} | {_fmt(_ratio(c['tp_exact'], c['gold']))} |"
        )
    lines += [
        "",
        "Toxicity per source (precision, recall, F1); flagging everything would score F1 "
        f"{_fmt(tox['all_toxic_baseline_f1'])}:",
        "",
        "| source | n | precision | recall | F1 |",
        "|---|---|---|---|---|",
    ]
    for source, (p, r, f, n) in [*tox["per_source"].items(), ("all", tox["overall"])]:
        lines.append(f"| {source} | {n} | {_fmt(p)} | {_fmt(r)} | {_fmt(f)} |")
    lines += [
        "",
        "Throughput per text set (texts/s; 1-minute load average of the machine "
        f"{speed['load_before']:.2f} before, {speed['load_after']:.2f} after):",
        "",
        "| set | n | tokens embedded per text (mean) | texts/s (best of 3) | texts/s (median) "
        "| CPU s (best run) |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("injection", "toxicity", "pii", "all"):
        rate, n, tokens, median, cpu = speed[name]
        lines.append(
            f"| {name} | {n} | {'-' if tokens != tokens else f'{tokens:.0f}'} | {rate:.0f} "
            f"| {median:.0f} | {cpu:.2f} |"
        )
    return "\n".join(lines)


def record(results: dict[str, Any], path: Path = SOURCES_MD) -> None:
    """Write the headline figures and toxicity per source into ``models/SOURCES.md``.

    Replaces the file's :data:`MEASURED_HEADING` section (the last one), or appends it.
    """
    lines = report(results).splitlines()
    headline = lines[: lines.index("")]
    start = next(i for i, line in enumerate(lines) if line.startswith("Toxicity per source"))
    toxicity = lines[start : lines.index("", start + 2)]
    speed = results["throughput"]
    section = [
        MEASURED_HEADING,
        "",
        "Written by `bench/guardrails.py --record` after the heads were trained (rerun it",
        "after training). Throughput depends on the machine and its load: this run saw a",
        f"1-minute load average of {speed['load_before']:.2f}; the scanners took "
        f"{speed['all'][4]:.2f} s of CPU for {speed['all'][1]} texts.",
        "",
        *headline,
        "",
        *toxicity,
        "",
    ]
    text = path.read_text(encoding="utf-8")
    if MEASURED_HEADING in text:
        text = text[: text.index(MEASURED_HEADING)]
    path.write_text(text.rstrip("\n") + "\n\n" + "\n".join(section), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="datasets folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument(
        "--record", action="store_true", help="also write the figures into models/SOURCES.md"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    results = {
        "throughput": measure_throughput(args.data),
        "attacks": measure_attacks(args.data),
        "pii": measure_pii(args.data),
        "toxicity": measure_toxicity(args.data),
    }
    print(json.dumps(results, indent=2) if args.json else report(results))
    if args.record:
        record(results)


if __name__ == "__main__":
    main()
