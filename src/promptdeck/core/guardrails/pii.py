"""Personal data: find it with checked patterns, redact it, and spot it leaking into answers.

Structured types are matched by pattern and then validated (the Luhn check for card
numbers, the ISO 13616 mod-97 check and the country's length for IBANs, the SSA
rules for US social security numbers, :mod:`ipaddress` for IP addresses). Short or
ambiguous phone numbers only count next to a cue ("Phone:", "call me at", "fax").
Dates count as dates of birth only after a cue ("born", "DOB"), and names only where
they are reliable ("my name is", "Name:"). Matching runs on the normalised text
(:mod:`.normalize`); spans are reported in the original.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from promptdeck.core.guardrails.base import ScanContext, Span, Verdict, scanner
from promptdeck.core.guardrails.intervals import DisjointSpans
from promptdeck.core.guardrails.normalize import normalize

__all__ = [
    "PII_TYPES",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "redact",
    "same_pii",
    "scan_pii",
    "ssn_valid",
]

PII_TYPES = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
    "DATE_OF_BIRTH",
    "STREET_ADDRESS",
    "PERSON",
)
"""Every type the ``pii`` scanner reports."""

# When two findings overlap, the higher priority (then the longer) wins.
_PRIORITY = {
    "EMAIL_ADDRESS": 9,
    "IBAN_CODE": 8,
    "CREDIT_CARD": 7,
    "US_SSN": 7,
    "IP_ADDRESS": 6,
    "DATE_OF_BIRTH": 5,
    "PHONE_NUMBER": 4,
    "STREET_ADDRESS": 3,
    "PERSON": 2,
}

# ISO 13616 IBAN lengths by country (SWIFT IBAN registry).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])"
)
_CARD = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){11,18}(?![\w-]|\.\d)")
_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
_SSN_BARE = re.compile(
    r"(?i)\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?)\s*(?:is|:|#)?\s*(\d{9})\b"
)
_IBAN = re.compile(r"(?i)(?<![\w])([a-z]{2}\d{2}(?: ?[a-z0-9]){10,30})")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?i)(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])"
)
_PHONE = re.compile(
    r"(?<![\w+./#&-])(?:\+ ?)?[\d(][\d() .-]{4,22}\d"
    r"(?: ?(?:x|ext\.?|extension) ?\d{1,6})?(?![\w/]|[.,]\d)"
)
_EXTENSION = re.compile(r" ?(?:x|ext\.?|extension) ?\d+$")
_PHONE_CUE_BEFORE = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|fax|desk|office|home|work|call|calling|text|sms|"
    r"whats ?app|reach|contact|dial|ring|answering|messages? to)\b\W{0,4}"
    r"(?:\w+\W{1,3}){0,3}$"
)
_PHONE_CUE_AFTER = re.compile(r"(?i)^\W{0,3}(?:office|fax|mobile|home|work|cell|phone|tel)\b")
_NANP = re.compile(r"(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}")
_DATEISH = re.compile(r"^(?:\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{2,4})(?: \d+)?$")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
_DOB = re.compile(
    r"(?i)\b(?:born(?:\s+on)?|date\s+of\s+birth|d\.?o\.?b\.?|birth\s*date|birthday(?:\s+is)?)"
    rf"\s*(?:is|was|:|-)?\s*(?:on\s+)?({_DATE})"
)
_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|"
    r"Terrace|Parkway|Pkwy|Highway|Hwy|Square|Sq|Circle|Cir|Trail|Crescent|Close|Alley|"
    r"Straße|Strasse|Str|Rue|Via|Calle|Plaza|Gardens|Grove|Hill|Park|Row|Walk)"
)
# A house number, one to four capitalised words, a street type; then maybe a flat number.
_ADDRESS = re.compile(
    r"\b\d{1,6}[A-Za-z]?,?[ \t]+(?:[A-ZÀ-Þ][\w'.-]*[ \t]+){1,4}" + _STREET_SUFFIX + r"\b\.?"
    r"(?:,?[ \t]+(?i:apt|apartment|suite|ste|unit|floor|fl)\.?[ \t]*#?[ \t]*\w{1,6})?"
)
_PERSON = re.compile(
    r"(?:(?i:\bmy\s+(?:full\s+)?name\s+is|\bI\s+am\s+called|\bmy\s+name'?s)[ \t]+"
    r"|(?m:^[ \t]*(?i:(?:(?:full|first|last|patient|customer|client|contact)\s+)?name)"
    r"[ \t]*:[ \t]*)"
    r"|\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?[ \t]+)"
    r"((?:[^\W\d_][\w'’-]*\.?)(?:[ \t]+[^\W\d_][\w'’-]*\.?){0,3})"
)


def luhn_valid(digits: str) -> bool:
    """Return True when a digit string passes the Luhn check (card numbers).

    Args:
        digits: Digits only.
    """
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """Return True when an IBAN has its country's length and passes the mod-97 check.

    Args:
        iban: The IBAN, with or without spaces, any case.
    """
    compact = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", compact):
        return False
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """Return True when the parts of a US SSN could have been issued.

    Args:
        area: The first three digits.
        group: The middle two digits.
        serial: The last four digits.
    """
    return not (area in {"000", "666"} or area[0] == "9" or group == "00" or serial == "0000")


def _card_plausible(digits: str) -> bool:
    if not luhn_valid(digits) or digits[0] == "0" or set(digits) <= {"0", "1"}:
        return False  # no card number starts with 0; 0/1 runs are binary, not cards
    if len(digits) >= 13:
        return True
    return digits[:2] in {"50", "56", "57", "58", "63", "67"}  # 12-digit Maestro


def _phone_spans(text: str) -> Iterable[tuple[int, int]]:
    for match in _PHONE.finditer(text):
        value = match.group()
        number = _EXTENSION.sub("", value)
        digits = re.sub(r"\D", "", number)
        if not 6 <= len(digits) <= 15 or re.search(r"[ .-]{2}|\(\)|\d\(", number):
            continue
        # A piece of a longer run of digit groups is not a phone number.
        if re.search(r"\d[ .-]$", text[max(0, match.start() - 2) : match.start()]) or re.match(
            r"[ .-]\d", text[match.end() : match.end() + 2]
        ):
            continue
        if number.count("(") != number.count(")"):
            continue
        if _DATEISH.match(number) and not number.startswith("+"):
            continue
        separators = len(re.findall(r"[ .-]", number))
        strong = (
            (number.startswith("+") and len(digits) >= 8)
            or (number.startswith("00") and len(digits) >= 10)
            or len(number) < len(value)
            or "(" in number
            or bool(_NANP.fullmatch(number))
            or (10 <= len(digits) <= 12 and separators >= 2)
        )
        if not strong:
            before = text[max(0, match.start() - 40) : match.start()]
            after = text[match.end() : match.end() + 12]
            if not (_PHONE_CUE_BEFORE.search(before) or _PHONE_CUE_AFTER.match(after)):
                continue
            address = _ADDRESS.search(text, match.start(), match.end() + 60)
            if address and address.start() < match.end():  # "a taxi to 03 2657 Koontz Lane"
                continue
        yield match.start(), match.end()


def _candidates(text: str) -> Iterable[tuple[int, int, str]]:
    for m in _EMAIL.finditer(text):
        yield m.start(), m.end(), "EMAIL_ADDRESS"
    for m in _CARD.finditer(text):
        if _card_plausible(re.sub(r"\D", "", m.group())):
            yield m.start(), m.end(), "CREDIT_CARD"
    for m in _SSN.finditer(text):
        if ssn_valid(m.group(1), m.group(3), m.group(4)):
            yield m.start(), m.end(), "US_SSN"
    for m in _SSN_BARE.finditer(text):
        value = m.group(1)
        if ssn_valid(value[:3], value[3:5], value[5:]):
            yield m.start(1), m.end(1), "US_SSN"
    for m in _IBAN.finditer(text):
        span = _iban_span(text, m.start(1), m.group(1))
        if span:
            yield span[0], span[1], "IBAN_CODE"
    for m in _IPV4.finditer(text):
        if _ip_valid(m.group()):
            yield m.start(), m.end(), "IP_ADDRESS"
    for m in _IPV6.finditer(text):
        if m.group().count(":") >= 2 and _ip_valid(m.group()):
            yield m.start(), m.end(), "IP_ADDRESS"
    for start, end in _phone_spans(text):
        yield start, end, "PHONE_NUMBER"
    for m in _DOB.finditer(text):
        yield m.start(1), m.end(1), "DATE_OF_BIRTH"
    for m in _ADDRESS.finditer(text):
        yield m.start(), m.end(), "STREET_ADDRESS"
    for m in _PERSON.finditer(text):
        end = _name_end(m.group(1))
        if end:
            yield m.start(1), m.start(1) + end, "PERSON"


def _name_end(words: str) -> int:
    """Length of the run of capitalised words that starts ``words``.

    Words in capitals ("MY NAME IS SAID") do not count; a word ending a sentence
    ("Dr. Al. He...") ends the name, and a possessive "'s" is left out.
    """
    end = 0
    for word in re.finditer(r"\S+", words):
        text = word.group()
        if not text[0].isupper() or (len(text) > 3 and text.isupper()):
            break
        end = word.end()
        if text.endswith(".") and len(text) > 2:  # "Smith." ends a sentence; "J." is an initial
            end -= 1
            break
        if text.endswith(("'s", "’s")):
            end -= 2
            break
    return end


def _iban_span(text: str, start: int, value: str) -> tuple[int, int] | None:
    """Cut an IBAN candidate to its country's length and check it."""
    length = _IBAN_LENGTHS.get(value[:2].upper())
    if length is None:
        return None
    count = 0
    for offset, char in enumerate(value):
        if char != " ":
            count += 1
        if count == length:
            end = start + offset + 1
            if end < len(text) and text[end].isalnum():
                return None
            return (start, end) if iban_valid(text[start:end]) else None
    return None


def _ip_valid(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not (address.version == 4 and value.startswith("0"))


def find_pii(text: str, types: Sequence[str] | None = None) -> list[Span]:
    """Find personal data in a text.

    Args:
        text: The text (matched after normalisation; spans refer to ``text`` itself).
        types: Only these types (default: all of :data:`PII_TYPES`).

    Returns:
        Non-overlapping spans in text order.
    """
    norm = normalize(text)
    wanted = set(types or PII_TYPES)
    found = [c for c in _candidates(norm.text) if c[2] in wanted]
    found.sort(key=lambda c: (-_PRIORITY[c[2]], -(c[1] - c[0]), c[0]))
    taken = DisjointSpans()
    spans: list[Span] = []
    for start, end, kind in found:
        if not taken.claim(start, end):
            continue
        o_start, o_end = norm.to_original(start, end)
        spans.append(Span(o_start, o_end, kind, text[o_start:o_end]))
    return sorted(spans, key=lambda s: s.start)


def redact(text: str, spans: Iterable[Span]) -> str:
    """Replace each span with ``[TYPE]``.

    Args:
        text: The text the spans were found in.
        spans: The findings (overlapping ones are merged under the first one's type).

    Returns:
        The redacted text.
    """
    pieces: list[str] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.end <= cursor:
            continue
        start = max(span.start, cursor)
        if start == span.start:
            pieces.append(text[cursor:start])
            pieces.append(f"[{span.type}]")
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _summary(spans: Sequence[Span]) -> str:
    counts: dict[str, int] = {}
    for span in spans:
        counts[span.type] = counts.get(span.type, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


@scanner(
    "pii",
    sides=("input", "output"),
    description="Personal data: e-mail, phone, card, SSN, IBAN, IP, birth date, address, name.",
    default=True,
    chunked=True,
)
def scan_pii(text: str, context: ScanContext) -> Verdict:
    """Flag personal data (see the module docstring)."""
    spans = tuple(find_pii(text))
    if not spans:
        return Verdict("pii", False, 0.0, (), "no personal data found")
    return Verdict("pii", True, 1.0, spans, f"found {_summary(spans)}")


def _canonical(span: Span) -> str:
    value = span.text.lower()
    if span.type in {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE"}:
        return re.sub(r"[^0-9a-z]", "", value)
    return re.sub(r"\s+", " ", value).strip()


def same_pii(a: Span, b: Span) -> bool:
    """True when two findings are the same value of the same type, whatever the formatting."""
    return a.type == b.type and _canonical(a) == _canonical(b)
