"""Shared files as the model reads them (``bot.attachments``) and Slack's file objects (``files_of``)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from bot.attachments import FileKind, FileReading, claimed_kind, content_block, file_line, sniffed_type
from integrations.slack.inbound import SlackFile, files_of, said_text

WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(20)


def test_the_kind_is_claimed_by_type_or_name_and_images_and_pdfs_are_sniffed() -> None:
    assert claimed_kind("a.png", "image/png") is FileKind.IMAGE
    assert claimed_kind("a.svg", "image/svg+xml") is FileKind.OTHER  # the API takes no SVG
    assert claimed_kind("a.pdf", None) is FileKind.PDF
    assert claimed_kind("main.go", "application/octet-stream") is FileKind.TEXT
    assert claimed_kind("a.zip", "application/zip") is FileKind.OTHER
    assert sniffed_type(WEBP) == "image/webp"
    assert sniffed_type(b"\xff\xd8\xff\xe0JFIF") == "image/jpeg"
    assert sniffed_type(b"hello") is None


def test_an_image_goes_with_its_real_type_and_a_text_file_is_fenced_masked_and_cut() -> None:
    block = content_block("photo.png", FileKind.IMAGE, WEBP)  # named .png, is a WebP
    assert block["source"]["media_type"] == "image/webp"
    assert base64.b64decode(block["source"]["data"]) == WEBP
    text = "x = '```'\nsk-ant-api03-" + "a" * 40 + "\n" + "y" * 9000
    fenced = content_block("notes.md", FileKind.TEXT, text.encode())["text"]
    assert fenced.startswith("[content of notes.md (cut)]\n````\nx = '```'\n")
    assert "sk-ant-api03-aaaa" not in fenced
    assert content_block("a.txt", FileKind.TEXT, b"\x00\x01binary")["text"] == (
        "[a.txt was not read: its content is not what its type says]"
    )


def test_slack_file_objects_are_read_and_malformed_ones_left_out() -> None:
    event = {
        "files": [
            {
                "name": "a.png",
                "mimetype": "image/png",
                "size": 10,
                "url_private": "https://files.slack.com/a",
            },
            {"name": "b\nc.txt", "size": 3, "url_private_download": "https://files.slack.com/b"},
            {"name": "no-size.png"},
            "not a file",
            {"title": "hidden", "size": 0, "mode": "hidden_by_limit"},
        ]
    }
    assert files_of(event) == (
        SlackFile("a.png", "image/png", 10, "https://files.slack.com/a"),
        SlackFile("b c.txt", None, 3, "https://files.slack.com/b"),
        SlackFile("hidden", None, 0, None),
    )
    assert files_of({"files": "nope"}) == ()


def test_the_text_names_each_file_and_a_file_alone_is_its_line() -> None:
    files = [SlackFile("a.png", "image/png", 2048, None)]
    assert said_text("<@U0BOT> look", files, bot_user_id="U0BOT", names={}) == (
        "look\n[attached: a.png (image/png, 2 KB)]"
    )
    assert said_text("<@U0BOT>", files, bot_user_id="U0BOT", names={}) == file_line(
        "a.png", "image/png", 2048
    )
    assert said_text("<@U0BOT>", [], bot_user_id="U0BOT", names={}) == "@Support"


def pdf_of(pages: int) -> bytes:
    """A PDF's bytes with ``pages`` page objects."""
    objects = b"".join(b"%d 0 obj << /Type /Page /Parent 1 0 R >> endobj\n" % i for i in range(pages))
    return b"%%PDF-1.4\n1 0 obj << /Type /Pages /Count %d >> endobj\n" % pages + objects


def test_a_pdf_of_more_pages_than_the_api_takes_is_noted() -> None:
    pdf = pdf_of(101)
    assert content_block("big.pdf", FileKind.PDF, pdf) == {
        "type": "text",
        "text": "[big.pdf was not read: it has more than 100 pages]",
    }
    assert content_block("ok.pdf", FileKind.PDF, pdf[: pdf.index(b"100 0 obj")])["type"] == "document"


@dataclass(frozen=True)
class Shared:
    name: str
    mimetype: str
    size: int
    data: bytes


async def test_the_pdfs_of_one_answer_share_the_pages_one_request_takes() -> None:
    files = [Shared(f"{n}.pdf", "application/pdf", len(pdf_of(40)), pdf_of(40)) for n in "abc"]

    async def download(file: Shared, limit: int, seconds: float) -> bytes:
        return file.data

    blocks = await FileReading(download).blocks(files)
    assert [block["type"] for block in blocks] == ["document", "document", "text"]
    assert (
        blocks[2]["text"]
        == "[c.pdf was not read: the PDFs read for this answer together have more than 100 pages]"
    )
