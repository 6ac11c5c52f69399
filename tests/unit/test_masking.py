"""What ``bot.masking.mask`` hides in a person's message, and what it leaves alone."""

from __future__ import annotations

import pytest

from bot.masking import luhn, mask

# Secret-looking values are put together here, so that no scanner takes this file for a leak.
ANTHROPIC_KEY = "sk-ant-" + "api03-" + "Xy9" * 12
OPENAI_KEY = "sk-" + "proj-" + "aB3" * 10
SLACK_BOT = "xoxb-" + "1234567890-0987654321-" + "AbCdEfGhIjKlMnOp"
SLACK_USER = "xoxp-" + "1234567890-0987654321-" + "QrStUvWxYz"
SLACK_APP = "xapp-" + "1-A0123456789-0123456789-" + "abcdef"
GITHUB = "ghp_" + "A1b2C3d4" * 5
GITHUB_PAT = "github_pat_" + "11ABCDEFG0" * 4
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
JWT = "eyJ" + "hbGciOiJIUzI1NiJ9" + "." + "eyJzdWIiOiIxMjM0In0" + "." + "SflKxwRJSMeKKF2QT4fwpM"
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc+/def==\n-----END RSA PRIVATE KEY-----"

CASES: list[tuple[str, str]] = [
    # Card numbers: grouped or not, every major network, Luhn-valid.
    ("my card is 4242 4242 4242 4242, thanks", "my card is [card ending 4242], thanks"),
    ("4242424242424242", "[card ending 4242]"),
    ("card: 4242-4242-4242-4242.", "card: [card ending 4242]."),
    ("amex 3782 822463 10005 please", "amex [card ending 0005] please"),
    ("mc 5555555555554444", "mc [card ending 4444]"),
    ("discover 6011111111111117", "discover [card ending 1117]"),
    ("visa 4222222222222", "visa [card ending 2222]"),
    ("19 digits 4000 0000 0000 0000 006", "19 digits [card ending 0006]"),
    # Digit runs that are not card numbers stay.
    ("4242 4242 4242 4241", "4242 4242 4242 4241"),  # fails the Luhn check
    ("order ORD-10001 and ORD-10002", "order ORD-10001 and ORD-10002"),
    ("tracking 1Z999AA10123456784", "tracking 1Z999AA10123456784"),
    ("usps 9400111899223856745301", "usps 9400111899223856745301"),  # 22 digits
    ("usps 9400 1118 9922 3856 7453 01", "usps 9400 1118 9922 3856 7453 01"),
    ("dhl 4829175036", "dhl 4829175036"),
    ("call +1 415 555 0100", "call +1 415 555 0100"),
    ("id 79927398713", "id 79927398713"),  # Luhn-valid, but 11 digits
    ("ref 1234567812345670", "ref 1234567812345670"),  # Luhn-valid, but no card network starts with 1
    ("ORD-4242424242424242", "ORD-4242424242424242"),  # part of an id
    ("2024-05-01 12:00", "2024-05-01 12:00"),
    # Security codes, when labelled.
    ("CVC 123", "CVC [redacted]"),
    ("cvv: 1234", "cvv: [redacted]"),
    ("the security code 987 is on the back", "the security code [redacted] is on the back"),
    ("CVV2=321", "CVV2=[redacted]"),
    ("4242 4242 4242 4242 exp 12/29 cvc 555", "[card ending 4242] exp 12/29 cvc [redacted]"),
    ("I have 123 items", "I have 123 items"),
    # Secrets.
    (f"my key is {ANTHROPIC_KEY}", "my key is [redacted secret]"),
    (f"key={OPENAI_KEY}", "key=[redacted secret]"),
    (f"{SLACK_BOT} and {SLACK_USER}", "[redacted secret] and [redacted secret]"),
    (f"app token {SLACK_APP}.", "app token [redacted secret]."),
    (f"`{GITHUB}` / {GITHUB_PAT}", "`[redacted secret]` / [redacted secret]"),
    (f"aws {AWS} here", "aws [redacted secret] here"),
    (f"Bearer {JWT}", "Bearer [redacted secret]"),
    (f"here:\n{PEM}\nthat's it", "here:\n[redacted secret]\nthat's it"),
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg", "[redacted secret]"),  # cut off: to the end
    ("password: hunter2", "password: [redacted secret]"),
    ("my Password=s3cr3t! ok", "my Password=[redacted secret] ok"),
    ('password: "two words"', "password: [redacted secret]"),
    ("I forgot my password, help", "I forgot my password, help"),
    # Words that only look like prefixes stay.
    ("ask-the-team sk-short task-12345678901234567890", "ask-the-team sk-short task-12345678901234567890"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "masked"), CASES)
def test_mask(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize(("text", "_"), CASES)
def test_masking_twice_changes_nothing_more(text: str, _: str) -> None:
    assert mask(mask(text)) == mask(text)


def test_luhn() -> None:
    assert luhn("4242424242424242") and luhn("79927398713")
    assert not luhn("4242424242424241") and not luhn("79927398710")
