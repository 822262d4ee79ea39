"""The pii scanner: checked patterns, cues, redaction, and leaks into answers."""

from __future__ import annotations

import pytest

from promptdeck.core.guardrails import ScanContext, find_pii, get_scanner, redact
from promptdeck.core.guardrails.pii import iban_valid, luhn_valid, ssn_valid


def kinds(text: str) -> list[tuple[str, str]]:
    return [(s.type, s.text) for s in find_pii(text)]


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("378282246310005", True),  # Amex test number
        ("5555555555554444", True),
        ("5555555555554445", False),
        ("79927398713", True),
        ("79927398710", False),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("GB82 WEST 1234 5698 7654 32", True),
        ("DE89370400440532013000", True),
        ("fr1420041010050500013m02606", True),
        ("GB82 WEST 1234 5698 7654 33", False),  # check digits off
        ("GB82 WEST 1234 5698 7654", False),  # too short for GB
        ("XX82WEST12345698765432", False),  # no such country
    ],
)
def test_iban_checksum(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


@pytest.mark.parametrize(
    ("ssn", "valid"),
    [
        ("123-45-6789", True),
        ("000-12-3456", False),
        ("666-12-3456", False),
        ("912-34-5678", False),
        ("123-00-4567", False),
        ("123-45-0000", False),
    ],
)
def test_ssn_rules(ssn: str, valid: bool) -> None:
    area, group, serial = ssn.split("-")
    assert ssn_valid(area, group, serial) is valid
    assert (("US_SSN", ssn) in kinds(f"SSN {ssn} on file")) is valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Write to jane.doe+news@mail.example.co.uk today",
            ("EMAIL_ADDRESS", "jane.doe+news@mail.example.co.uk"),
        ),
        ("card 4111 1111 1111 1111 exp 12/29", ("CREDIT_CARD", "4111 1111 1111 1111")),
        ("card 4111-1111-1111-1111", ("CREDIT_CARD", "4111-1111-1111-1111")),
        ("pay to GB82 WEST 1234 5698 7654 32 now", ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32")),
        ("pay to DE89370400440532013000.", ("IBAN_CODE", "DE89370400440532013000")),
        ("server 192.168.1.20 is down", ("IP_ADDRESS", "192.168.1.20")),
        ("host 2001:db8::8a2e:370:7334 replied", ("IP_ADDRESS", "2001:db8::8a2e:370:7334")),
        ("call +44 20 7946 0958 please", ("PHONE_NUMBER", "+44 20 7946 0958")),
        ("call +1 (415) 555-2671 please", ("PHONE_NUMBER", "+1 (415) 555-2671")),
        ("office 415.555.2671 ext. 42", ("PHONE_NUMBER", "415.555.2671 ext. 42")),
        ("ring 0049 30 1234567", ("PHONE_NUMBER", "0049 30 1234567")),
        ("Phone: 467 3395", ("PHONE_NUMBER", "467 3395")),
        ("You can reach me on 0490 75 40 81.", ("PHONE_NUMBER", "0490 75 40 81")),
        ("I was born on 12/03/1985 in Leeds", ("DATE_OF_BIRTH", "12/03/1985")),
        ("DOB: March 3, 1990", ("DATE_OF_BIRTH", "March 3, 1990")),
        (
            "I live at 221 Baker Street, Apt 4 in London",
            ("STREET_ADDRESS", "221 Baker Street, Apt 4"),
        ),
        ("Hello, my name is Jane van Smith and I need help", ("PERSON", "Jane")),
        ("Name: John O'Neil\nAge: 4", ("PERSON", "John O'Neil")),
        ("Please ask Dr. Maria Lopez", ("PERSON", "Maria Lopez")),
        ("Dr. Al. He has a plan", ("PERSON", "Al")),
        ("Ask Mrs. Jameson's son", ("PERSON", "Jameson")),
    ],
)
def test_finds(text: str, expected: tuple[str, str]) -> None:
    assert expected in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # fails Luhn
        "pay to GB82 WEST 1234 5698 7654 33",  # fails mod 97
        "version 999.1.1.1 released",  # not an IP address
        "meet at 12:30:45 sharp",  # a time, not IPv6
        "The population grew by 1 234 567 people",  # digits without a phone cue
        "It happened between 1998 and 2004, order 5551234",
        "The meeting is on 2024-05-01 at noon",  # a date, but not a birth date
        "my name is not important",
        "IF MY NAME IS SAID, I WILL ANSWER",  # shouting, not a name
        "Customer: Hi there, I'm looking for shoes",  # a speaker label, not a name field
        "binary 01010011 01010011 00100000",  # passes Luhn, but not a card
        "Killing it &#127936; #NBA at home",  # an HTML entity, not a phone number
        "I saw 3 dogs in the park",  # not a street address
        "From 2010 to 2020 the network grew by 4 500 000 users",
        "This is simply a sentence with no personal data.",
    ],
)
def test_does_not_find(text: str) -> None:
    assert kinds(text) == []


def test_unicode_tricks_do_not_hide_pii_and_spans_cover_the_original() -> None:
    text = "mail jane\u200b@example.com, card ４１１１ １１１１ １１１１ １１１１"
    spans = find_pii(text)
    assert [s.type for s in spans] == ["EMAIL_ADDRESS", "CREDIT_CARD"]
    assert spans[0].text == "jane\u200b@example.com"
    assert spans[1].text == "４１１１ １１１１ １１１１ １１１１"
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_redact_replaces_each_span_with_its_type() -> None:
    text = "Email jane@x.io or call +1 415 555 2671. SSN 123-45-6789."
    assert redact(text, find_pii(text)) == (
        "Email [EMAIL_ADDRESS] or call [PHONE_NUMBER]. SSN [US_SSN]."
    )
    assert redact("nothing here", find_pii("nothing here")) == "nothing here"
    hidden = "write to jane\u200b@example.com"
    assert redact(hidden, find_pii(hidden)) == "write to [EMAIL_ADDRESS]"


def test_scanner_verdicts() -> None:
    scan = get_scanner("pii").scan
    flagged = scan("reach me at bob@example.org")
    assert flagged.flagged and flagged.score == 1.0 and "EMAIL_ADDRESS" in flagged.reason
    clean = scan("What is the capital of France?")
    assert not clean.flagged and clean.score == 0.0 and clean.spans == ()


def test_pii_leak_flags_only_what_the_input_did_not_hold() -> None:
    scan = get_scanner("pii-leak").scan
    context = ScanContext(input_text="My card is 4111-1111-1111-1111, email a@b.co")
    same = scan("Your card 4111 1111 1111 1111 and a@b.co are on file.", context)
    assert not same.flagged
    leak = scan("Card 4111 1111 1111 1111; also contact carol@corp.example", context)
    assert leak.flagged and [s.type for s in leak.spans] == ["EMAIL_ADDRESS"]
    assert scan("call +44 20 7946 0958", ScanContext()).flagged  # no input: all PII is new
