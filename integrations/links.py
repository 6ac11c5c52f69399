"""What the chat front ends share about links in text they did not write (pure functions).

A link whose label reads like an address can show one address and open another: ``[shop.example/track]
(https://evil.example/x)``. Slack and Discord therefore never show such a label as a link: a link's label
is shown only when it does not look like an address at all, and then next to the real target.
"""

from __future__ import annotations

import re

_DOT = r"[.\u3002\uff0e\uff61]"  # also the ideographic and full-width dots some clients read as dots
_ADDRESS = re.compile(
    rf"""
      [a-z][a-z0-9+.-]*:/                                   # a scheme: https://, ftp:/, …
    | \b(?:mailto|tel|www{_DOT})                            # mailto:…, tel:…, www.…
    | [^\W_](?:[\w-]{{0,62}}[^\W_])?                         # a domain: label(s) and a top-level domain
      (?:{_DOT}[^\W_](?:[\w-]{{0,62}}[^\W_])?)*
      {_DOT}(?:[^\W\d_]{{2,63}}|xn--[a-z0-9-]{{1,59}})(?![\w-])
    | \b\d{{1,3}}(?:{_DOT}\d{{1,3}}){{3}}\b                     # an IPv4 address
    """,
    re.VERBOSE | re.IGNORECASE,
)


def looks_like_address(text: str) -> bool:
    """Whether ``text`` (a link's label) contains something a reader could take for a URL, a domain, an
    e-mail address or an IP address. Backslash escapes are ignored: ``shop\\.example`` is a domain too."""
    return _ADDRESS.search(text.replace("\\", "")) is not None
