"""Card numbers, card security codes and pasted secrets masked out of a person's text (pure).

``mask`` runs on every message as it enters the core (``bot.service``), before it is stored or sent to
the model, so no front end can forget it:

- a card number (13 to 19 digits, optionally grouped with single spaces or dashes, of the major networks,
  whose first digit is 2 to 6, passing the Luhn check) becomes ``[card ending 4242]``; other digit runs
  (order ids such as ``ORD-10001``, tracking and phone numbers, a number that fails the check) stay;
- a security code after its label (``CVC 123``, ``cvv: 1234``, ``security code 123``) becomes
  ``CVC [redacted]``;
- a secret becomes ``[redacted secret]``: API keys and tokens with a well-known prefix (``sk-ant-``,
  ``sk-``, Slack's ``xoxb-``/``xoxp-``/``xapp-``, GitHub's ``ghp_``/``github_pat_``, AWS access key ids
  ``AKIA…``), JSON Web Tokens, ``-----BEGIN … PRIVATE KEY-----`` blocks (to their end, or to the end of
  the text when the end line is missing) and the value after ``password:`` or ``password=``.
"""

from __future__ import annotations

import re

SECRET = "[redacted secret]"
REDACTED = "[redacted]"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*?)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.DOTALL
)
_TOKENS = re.compile(
    r"(?<![\w-])(?:"
    r"sk-ant-[\w-]{8,}"  # Anthropic
    r"|sk-[\w-]{16,}"  # OpenAI and others
    r"|xox[abposr]-[\w-]{8,}"  # Slack bot, user and other tokens
    r"|xapp-[\w-]{8,}"  # Slack app-level tokens
    r"|gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|github_pat_\w{20,}"  # GitHub fine-grained tokens
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}"  # JSON Web Tokens: header.payload.signature
    r")(?![\w-])"
)
_PASSWORD = re.compile(
    r"(?i)\b(password|passwd|passphrase|pwd)(\s*[:=]\s*)(?!\[redacted)(\"[^\"\n]*\"|'[^'\n]*'|[^\s\"']+)"
)
_CARD = re.compile(r"(?<![\w-])(?<!\d[ -])[2-6](?:[ -]?\d){12,18}(?![ -]?\d)(?!\w)")
_CVC = re.compile(
    r"(?i)\b(cvc2?|cvv2?|cid|csc|security\s+code|card\s+verification\s+(?:code|value))"
    r"(\s*(?:is\s+)?[:#=]?\s*)(\d{3,4})(?!\d)"
)


def luhn(digits: str) -> bool:
    """Whether the digit string passes the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"[card ending {digits[-4:]}]" if luhn(digits) else match.group(0)


def mask(text: str) -> str:
    """``text`` with card numbers, labelled security codes and pasted secrets masked."""
    if not text:
        return text
    text = _PRIVATE_KEY.sub(SECRET, text)
    text = _TOKENS.sub(SECRET, text)
    text = _PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}{SECRET}", text)
    text = _CARD.sub(_card, text)
    return _CVC.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


__all__ = ["REDACTED", "SECRET", "luhn", "mask"]
