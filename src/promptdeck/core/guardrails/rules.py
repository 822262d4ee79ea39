"""Rules for the obvious cases of injection, jailbreak and abuse, and encoded payloads.

The classifiers (:mod:`.classifiers`) judge what a text means; these rules catch the
phrasings that need no judgement ("ignore all previous instructions", "reveal your
system prompt", fake ``<|im_start|>system`` markers, "DAN", "kill yourself") with a
span to show, and look inside base64 and hex blobs, where a payload hides from both.
Rules run on the normalised text (:mod:`.normalize`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "INJECTION_RULES",
    "JAILBREAK_RULES",
    "TOXICITY_RULES",
    "Rule",
    "RuleHit",
    "decode_payloads",
    "match_rules",
]


@dataclass(frozen=True)
class Rule:
    """One pattern and what a match means.

    Attributes:
        type: The span type reported (``IGNORE_INSTRUCTIONS``...).
        regex: The pattern.
        score: The scanner score a match implies (0-1).
        starts: For a pattern whose start words cannot be read from it: the
            lower-cased texts every match starts with, besides the text's start
            (see :func:`~promptdeck.core.guardrails.rule_search.first_match`).
        requires: Lower-cased words one of which every match holds: a text holding
            none has no match, and is not searched.
        windows: Where in a text a match can lie, as ``(start, end)`` ranges in
            order (searched there only).
    """

    type: str
    regex: re.Pattern[str]
    score: float
    starts: tuple[str, ...] | None = None
    requires: tuple[str, ...] | None = None
    windows: Callable[[str], Iterable[tuple[int, int]]] | None = None


@dataclass(frozen=True)
class RuleHit:
    """A rule's match in a text.

    Attributes:
        rule: The rule.
        start: Start offset in the matched text.
        end: End offset.
    """

    rule: Rule
    start: int
    end: int


def _rule(kind: str, pattern: str, score: float = 1.0, **search: Any) -> Rule:
    return Rule(kind, re.compile(pattern, re.IGNORECASE), score, **search)


_LONG_WORD = re.compile(r"\S{4,}")


def _short_word_runs(text: str) -> Iterable[tuple[int, int]]:
    """Where ``REPETITION_FLOOD`` can match: runs of 15 or more words of 1-3 characters.

    A flood repeats a unit of one to four such words 16 times, so all but the first
    word lie between two words of four or more characters (the first may be the last
    three characters of one). Finding those long words is quick; the rule is then
    tried between them only, where 15 short words fit.
    """
    previous = 0
    for match in _LONG_WORD.finditer(text):
        start = match.start()
        if start - previous >= 30 and len(text[previous:start].split()) >= 15:
            yield max(0, previous - 3), start
        previous = match.end()
    if len(text) - previous >= 30 and len(text[previous:].split()) >= 15:
        yield max(0, previous - 3), len(text)


_PREVIOUS = (
    r"(?:previous|prior|preceding|above|earlier|initial|original|former|foregoing|old|"
    r"existing|system|developer|pre-?set|given|current)"
)
_DIRECTIVES = (
    r"(?:instructions?|prompts?|rules?|directions?|directives?|guidelines?|commands?|"
    r"constraints?|programming|orders?|context|messages?|text|guidance|policies)"
)
_IGNORE = r"(?:ignore|disregard|forget|override|overrule|bypass|neglect|discard|abandon|skip)"
_REVEAL = (
    r"(?:reveal|show|print|repeat|output|display|dump|echo|leak|recite|spell out|write out|"
    r"tell me|give me|share|list|paste|translate|summari[sz]e|what (?:is|are|was|were))"
)
_PROTECTED = (
    r"(?:system\s*prompt|system\s+message|(?:initial|original|hidden|secret|first|full|"
    r"exact|previous|above|pre-?)\s*(?:prompt|instructions?|rules|message|text)|"
    r"instructions (?:you were given|above|you received)|prompt above|pre-?prompt|"
    r"(?:your|the) (?:instructions|rules|guidelines) verbatim|password|passcode|access code|"
    r"(?:initial|original|hidden|system) (?:configuration|setup|directives)|"
    r"secret (?:key|word|code))"
)

INJECTION_RULES: tuple[Rule, ...] = (
    _rule(
        "IGNORE_INSTRUCTIONS",
        rf"\b{_IGNORE}\s+(?:all\s+|any\s+|each\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+|those\s+|that\s+)?"
        rf"(?:\w+\s+){{0,2}}?{_PREVIOUS}\s+(?:\w+\s+){{0,2}}?{_DIRECTIVES}\b",
    ),
    _rule(
        "IGNORE_INSTRUCTIONS",
        rf"\b{_IGNORE}\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?{_DIRECTIVES}\s+(?:\w+\s+)?"
        r"(?:previously|before|above|so far|earlier|you (?:were|have been) given)\b",
    ),
    _rule(
        "IGNORE_INSTRUCTIONS",
        rf"\b{_IGNORE}\s+(?:all\s+|everything\s+|anything\s+|the\s+)?(?:that\s+|what\s+)?"
        r"(?:(?:was|is|you were|you've been|you have been)\s+)?"
        r"(?:said|written|told|stated|given)?\s*"
        r"(?:above|before|previously|earlier|so far|until now|up to now)\b",
    ),
    _rule(
        "IGNORE_INSTRUCTIONS",
        rf"\b{_IGNORE}\s+(?:all\s+)?(?:your|the)\s+{_DIRECTIVES}\b(?!\s+(?:of|for|on|about)\b)",
        0.9,
    ),
    _rule(
        "IGNORE_INSTRUCTIONS",
        r"\b(?:do not|don't|stop)\s+(?:follow(?:ing)?|obey(?:ing)?|listen(?:ing)? to)\s+"
        rf"(?:\w+\s+){{0,2}}{_PREVIOUS}\s+{_DIRECTIVES}\b",
    ),
    _rule(
        "NEW_INSTRUCTIONS",
        r"(?:^|\n|[.!:]\s)\W{0,6}(?:new|updated|real|actual|revised|important|urgent|override)\s+"
        r"(?:system\s+)?(?:instructions?|rules|task|directive|prompt)\s*(?:[:!-]|(?:to|for)\s+"
        r"(?:the\s+)?(?:chat\s+)?(?:assistant|ai|model|bot)\b)",
        0.9,
        requires=("instruction", "rules", "task", "directive", "prompt"),
    ),
    _rule(
        "NEW_INSTRUCTIONS",
        r"(?:^|\n)\W{0,3}(?:important|urgent|system)\s+update\s*[!:]",
        0.85,
        requires=("update",),
    ),
    _rule(
        "NEW_INSTRUCTIONS",
        r"\b(?:the\s+)?(?:previous|above|prior)\s+(?:instructions?|text|prompt|rules)\s+"
        r"(?:(?:is|are|was|were)\s+(?:a\s+)?(?:test|fake|wrong|outdated|void|cancelled|invalid|"
        r"no longer valid|deprecated|obsolete))",
    ),
    _rule(
        "PROMPT_EXTRACTION",
        rf"\b{_REVEAL}\s+(?:to me\s+|me\s+|us\s+)?(?:back\s+)?(?:all\s+|exactly\s+|verbatim\s+)?"
        rf"(?:of\s+)?(?:your|the|this|my|our)\s+(?:\w+\s+){{0,2}}?{_PROTECTED}",
    ),
    _rule(
        "PROMPT_EXTRACTION",
        r"\b(?:repeat|print|output|recite|reproduce|echo|copy|write|summari[sz]e|translate|"
        r"rewrite|format)\s+(?:out\s+|down\s+)?(?:back\s+)?(?:all\s+(?:of\s+)?)?(?:the\s+)?"
        r"(?:everything|(?:text|words|content|message|sentences?|instructions|prompt|lines?)"
        r"(?:\s+\w+){0,2}?)\s+(?:written\s+|that (?:came|comes|is|was)\s+|you (?:were given|got|"
        r"received|saw)\s+)?(?:above|before (?:this|my)|prior to this|so far|at the (?:start|"
        r"beginning))",
        0.95,
    ),
    _rule(
        "PROMPT_EXTRACTION",
        r"\b(?:repeat|print|output|list|format|summari[sz]e|recite|reveal|show|dump|respond with|"
        r"rewrite|convert|translate|paraphrase|spell out)\s+(?:me\s+)?(?:all\s+|every\s+|each\s+)?"
        r"(?:of\s+)?(?:your|the|all)\s+(?:\w+\s+)?(?:prior|previous|above|preceding|earlier|"
        r"hidden|secret|initial|original|system)?\s*(?:instructions?|prompt|system prompt|rules)\b"
        r"(?=\s+(?:you (?:have been|were|got)|so far|above|given|into|as|in|to|verbatim|word)|"
        r"\s*[.,;:!?]|\s*$)",
        0.85,
    ),
    _rule(
        "PROMPT_EXTRACTION",
        r"\b(?:starting|beginning|begin|start)\s+(?:with|from)\s+[\"'“‘]?(?:you are|your "
        r"instructions|the instructions|system)\b",
        0.95,
    ),
    _rule(
        "ROLE_MARKER",
        r"(?:<\|(?:im_start|im_end|system|endoftext|start_header_id|eot_id)\|?>|\[/?INST\]|"
        r"<<\s*/?SYS\s*>>|<\s*/?\s*system\s*>|^\s*#{2,}\s*(?:system|instruction)s?\b|"
        r"^\s*(?:system|assistant)\s*(?:prompt|message)?\s*:\s*(?=\S)|"
        r"\bEND\s+OF\s+(?:USER\s+)?(?:INPUT|PROMPT|INSTRUCTIONS|CONVERSATION)\b|"
        r"\[(?:system|admin|developer)\s*(?:message|note|override|mode)?\]|"
        r"%(?<!%%)%{2,}\s*end\b|=(?<!==)={2,}\s*(?:end|new|system)\b)",
        0.9,
        starts=("<", "[", "end", "%%%", "==="),
    ),
    _rule(
        "ROLE_HIJACK",
        r"\byou\s+(?:are|will)\s+no\s+longer\s+(?:be\s+)?(?:an?\s+|bound|restricted|"
        r"follow|required|\w+\s+by)|\byour\s+new\s+(?:role|task|purpose|instructions|goal)\b",
    ),
    _rule(
        "ROLE_HIJACK",
        r"\b(?:from\s+now\s+on|henceforth|for\s+the\s+rest\s+of\s+(?:this|the)\s+conversation)"
        r",?\s+(?:you\s+(?:are|will|must|shall|should)|your\s+(?:only|new))\b",
        0.8,
    ),
    _rule(
        "REPETITION_FLOOD",
        r"(\S{1,3}(?:[ \t]\S{1,3}){0,3}\s+)\1{15,}",
        0.8,
        windows=_short_word_runs,
    ),
    _rule(
        "ACCESS_GRANTED",
        r"\b(?:say|print|output|respond(?:\s+with)?|reply(?:\s+with)?|write|answer|type|"
        r"(?:begin|start)\s+(?:your\s+)?(?:reply|response|answer)\s+with)\b[^.\n]{0,40}?[\"'“‘]?access\s+granted",
    ),
    _rule(
        "INSTRUCTION_SMUGGLING",
        r"\b(?:decode|decrypt|translate|convert)\s+(?:this|the\s+following|it)[^.\n]{0,40}?"
        r"\b(?:and|then)\s+(?:follow|execute|obey|do|run|carry\s+out)\b",
        0.9,
    ),
)
"""Rules of the ``injection`` scanner."""

JAILBREAK_RULES: tuple[Rule, ...] = (
    _rule(
        "DAN",
        r"\bDAN\b(?=.{0,120}\b(?:anything|now|stands|mode|jailbreak|restrictions?|rules?)\b)|"
        r"\bdo(?:es)?\s+anything\s+now\b",
    ),
    _rule(
        "DEVELOPER_MODE",
        r"\b(?:developer|dev|god|jailbreak|unrestricted|unfiltered|evil|chaos|sudo|admin)\s+mode"
        r"\s+(?:enabled|activated|on|output)\b|\benable\s+(?:developer|jailbreak|god)\s+mode\b|"
        r"\[?🔓\s*JAILBREAK\]?|\bjailbr(?:oken|eak(?:ed)?)\s+(?:ai|model|version|chatgpt|mode)\b",
    ),
    _rule(
        "NO_RESTRICTIONS",
        r"\b(?:without|free\s+(?:of|from)|no|not\s+bound\s+by|break(?:s|ing)?\s+free\s+(?:of|from)"
        r"|(?:doesn't|does not|don't|do not|never)\s+(?:have|follow|care about|abide by))\s+"
        r"(?:any\s+)?(?:ethical|moral|content|safety|openai'?s?|anthropic'?s?|legal|typical)?\s*"
        r"(?:restrictions|filters?|filtering|limitations|censorship|guidelines|policies|"
        r"constraints|boundaries|rules|principles|confines)\b"
        r"(?=.{0,200}\b(?:ai|assistant|model|chatgpt|gpt|respond|answer|character|you)\b)",
        0.85,
    ),
    _rule(
        "NO_RESTRICTIONS",
        r"\b(?:amoral|unfiltered|uncensored|unrestricted|unethical)\s+(?:and\s+\w+\s+)?"
        r"(?:ai|assistant|chatbot|model|language model|bot|character|persona)\b",
        0.9,
    ),
    _rule(
        "PERSONA_MODE",
        r"\b(?:simulate|enable|activate|enter|stay\s+in|remain\s+in|switch\s+to|with|in)\s+"
        r"(?:the\s+)?(?-i:[A-Z][A-Z0-9^_-]{2,}|[A-Z][a-z]+GPT)\s+(?-i:[Mm]ode)\b",
        0.9,
    ),
    _rule(
        "PERSONA_MODE",
        r"\b(?:you\s+are\s+not|you\s+will\s+no\s+longer\s+(?:act|be|respond)\s+as|"
        r"(?:pretend|act)\s+(?:to\s+be|as)\s+(?:a\s+)?(?:different|another))\s+"
        r"(?:chatgpt|gpt|an?\s+ai|claude|an?\s+assistant|a\s+language\s+model)\b",
        0.85,
    ),
    _rule(
        "NEVER_REFUSE",
        r"\b(?:never|not\s+allowed\s+to|cannot|can't|must\s+not|will\s+not|won't)\s+"
        r"(?:refuse|decline|reject|deny)\b(?:\s+(?:any|a|to|my|your))?",
        0.75,
    ),
    _rule(
        "STAY_IN_CHARACTER",
        r"\b(?:stay|remain|keep)\s+in\s+character\b|\bbreak(?:ing)?\s+character\b|"
        r"\bcharacter\s+break\b",
        0.7,
    ),
    _rule(
        "POLICY_OVERRIDE",
        r"\b(?:ignor(?:e|es|ing)|bypass(?:ing)?|disregard(?:ing)?|forget|violat(?:e|es|ing)|"
        r"break(?:s|ing)?|(?:doesn't|does not|don't|do not|won't|never)\s+(?:follow|care about|"
        r"abide by|adhere to))\s+(?:all\s+)?(?:of\s+)?(?:your\s+|the\s+)?"
        r"(?:open\s?a[il]'?s?|anthropic'?s?|content|safety|ethical|moral|usage)\s+(?:content\s+)?"
        r"(?:policy|policies|guidelines|"
        r"rules|filters?|restrictions|training)\b",
    ),
    _rule(
        "FICTION_DISCLAIMER",
        r"\b(?:for|with)\s+(?:purely\s+|only\s+|strictly\s+)?(?:fictional|educational|research|"
        r"hypothetical|academic|informational|entertainment)\s+purposes|\b(?:will|would)\s+(?:not|"
        r"never)\s+(?:actually\s+)?be\s+used\s+(?:in\s+real\s+life|for\s+(?:any\s+)?(?:real|"
        r"illegal|harmful|malicious|unethical|nefarious)|in\s+any\s+(?:harmful|illegal|real)|to\s+"
        r"(?:harm|hurt))|\bi\s+(?:do\s+not|don't)\s+(?:support|condone|"
        r"endorse)\b|\bhypothetical\s+scenario\b|\bpurely\s+(?:fictional|hypothetical)\b",
        0.75,
    ),
    _rule(
        "AFFIRMATIVE_PREFIX",
        r"\b(?:begin|start)\s+(?:your\s+|the\s+)?(?:reply|response|answer|output|by\s+"
        r"(?:replying|saying|writing|responding))\s+(?:with|by)?\s*[:\"'“‘`]*\s*sure,?\s+here\b",
        0.9,
    ),
    _rule(
        "DUAL_RESPONSE",
        r"\b(?:two|2)\s+(?:different\s+)?(?:responses|answers|paragraphs)\b.{0,80}\b(?:one|first)"
        r"\b.{0,80}\b(?:normal|censored|classic|standard)\b",
        0.9,
    ),
)
"""Rules of the ``jailbreak`` scanner."""

TOXICITY_RULES: tuple[Rule, ...] = (
    _rule(
        "SELF_HARM_INCITEMENT",
        r"\b(?:go\s+)?(?:kill|hang|shoot|off)\s+your\s*self\b|\bkys\b|"
        r"\b(?:you\s+should|go|just)\s+(?:die|drop dead)\b",
    ),
    _rule(
        "THREAT",
        r"\bi(?:'m|\s+am|\s+will|'ll|\s+am\s+going\s+to|\s+gonna|\s+want\s+to)\s+"
        r"(?:kill|murder|rape|stab|shoot|beat|hurt|strangle)\s+(?:you|u|your\b)",
    ),
    _rule(
        "INSULT",
        r"\byou(?:'re|\s+are|\s+r|\s+re)\s+(?:such\s+)?(?:an?\s+)?(?:\w+\s+)?"
        r"(?:idiot|moron|imbecile|retard|worthless\s+\w+|piece\s+of\s+(?:shit|crap|garbage)|"
        r"scum|loser|subhuman|trash|garbage|cunt|bitch|whore|slut|dumbass|asshole|dickhead|"
        r"waste\s+of\s+(?:space|air|oxygen))\b",
        0.9,
    ),
    _rule("INSULT", r"\b(?:fuck|screw)\s+(?:you|u|off|yourself)\b|\bstfu\b", 0.9),
)
"""Rules of the ``toxicity`` scanner: harassment of the reader (the classifier does the rest)."""


def match_rules(text: str, rules: Sequence[Rule]) -> list[RuleHit]:
    """Return every match of ``rules`` in ``text`` (first match per rule), in text order.

    Args:
        text: A normalised text.
        rules: The rules.
    """
    from promptdeck.core.guardrails.rule_search import find_rule, lowered_for_search

    lowered = lowered_for_search(text)
    hits = []
    for rule in rules:
        match = find_rule(rule, text, lowered)
        if match is not None:
            hits.append(RuleHit(rule, match.start(), match.end()))
    return sorted(hits, key=lambda h: h.start)


_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){16,}(?![0-9A-Fa-f])")


def _readable(raw: bytes) -> str | None:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(1 for c in decoded if c.isprintable() or c in "\n\t")
    letters = sum(1 for c in decoded if c.isalpha())
    words = re.findall(r"[A-Za-z]{2,}", decoded)
    if printable < 0.95 * len(decoded) or letters < 0.6 * len(decoded.replace(" ", "")):
        return None
    return decoded if len(words) >= 3 and " " in decoded else None


def decode_payloads(text: str) -> Iterable[tuple[int, int, str]]:
    """Find base64 and hex blobs that decode to readable text.

    Args:
        text: The text.

    Yields:
        ``(start, end, decoded)`` for each blob.
    """
    for match in _BASE64.finditer(text):
        blob = match.group()
        if blob.isalpha() and (blob.islower() or blob.isupper()):
            continue  # a long word, not base64
        padded = blob + "=" * (-len(blob) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _readable(raw)
        if decoded:
            yield match.start(), match.end(), decoded
    for match in _HEX.finditer(text):
        digits = re.sub(r"[ :]", "", match.group())
        try:
            raw = bytes.fromhex(digits[: len(digits) // 2 * 2])
        except ValueError:
            continue
        decoded = _readable(raw)
        if decoded:
            yield match.start(), match.end(), decoded
