"""Reading a sitemap (sitemaps.org protocol): the page URLs of a ``<urlset>``, or the sitemaps of an index.

A gzipped sitemap (``sitemap.xml.gz`` served as a file) is unpacked, within the same size cap as the
download. The XML parser is the standard library's expat, which refuses entity expansion attacks; the
input is capped before it is parsed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

_GZIP_MAGIC = b"\x1f\x8b"


class SitemapError(ValueError):
    """The document is not a sitemap (not XML, or neither a ``<urlset>`` nor a ``<sitemapindex>``)."""


@dataclass(frozen=True)
class Sitemap:
    """What a sitemap lists: pages (a ``<urlset>``) or further sitemaps (a ``<sitemapindex>``)."""

    pages: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()


def parse_sitemap(body: bytes, max_bytes: int) -> Sitemap:
    """The ``<loc>`` of each entry, in document order; raises :class:`SitemapError` for anything else."""
    if body.startswith(_GZIP_MAGIC):
        body = _gunzip(body, max_bytes)
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise SitemapError(f"not XML ({exc})") from None
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"<{kind}> is neither a <urlset> nor a <sitemapindex>")
    locations = tuple(
        (child.text or "").strip()
        for entry in root
        for child in entry
        if _local(child.tag) == "loc" and (child.text or "").strip()
    )
    return Sitemap(pages=locations) if kind == "urlset" else Sitemap(sitemaps=locations)


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    unpacker = zlib.decompressobj(wbits=31)
    try:
        unpacked = unpacker.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise SitemapError(f"not gzip ({exc})") from None
    if len(unpacked) > max_bytes:
        raise SitemapError(f"larger than {max_bytes} bytes unpacked")
    return unpacked


def _local(tag: str) -> str:
    """A tag without its XML namespace (``{http://www.sitemaps.org/schemas/sitemap/0.9}url`` → ``url``)."""
    return tag.rpartition("}")[2]
