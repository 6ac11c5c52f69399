"""The folder source: docs folders as Docusaurus, Hugo, Jekyll, MkDocs, Notion and Confluence leave them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.kb.sources.base import Fetched, SourceArticle, SourceError
from bot.kb.sources.config import FolderSourceConfig


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


async def fetch(root: Path, **config: object) -> Fetched:
    settings: dict[str, object] = {"name": "docs", "kind": "folder", "path": root.name, **config}
    source = FolderSourceConfig.model_validate(settings).open(root.parent)
    seen: list[tuple[int, int | None]] = []
    fetched = await source.fetch({}, lambda done, total: seen.append((done, total)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1]  # the progress ends complete
    return fetched


def by_key(fetched: Fetched) -> dict[str, SourceArticle]:
    return {article.key: article for article in fetched.articles}


def reasons(fetched: Fetched) -> dict[str, str]:
    return {skip.key: skip.reason for skip in fetched.skipped}


async def test_docusaurus_mdx_with_imports_components_and_admonitions(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write(
        root,
        {
            "returns/start-a-return.mdx": """---
id: start-a-return
title: >
  How to start
  a return
sidebar_position: 2
slug: /returns/start
tags:
  - label: Returns
    permalink: /returns
  - rma
---
import Tabs from '@theme/Tabs';
import TabItem from '@theme/TabItem';
export const meta = {
  audience: 'customers',
};

{/* shown in the sidebar too */}

Open **Orders** and choose the order.

<Tabs groupId="device">
  <TabItem value="web" label="On the website">
    Select **Return items**.
  </TabItem>
  <TabItem value="app" label="In the app">
    Tap **Return**.
  </TabItem>
</Tabs>

<Highlight color="#25c2a0" />

:::tip[Keep the label]
Print the label within 14 days.
:::

```jsx
import Tabs from '@theme/Tabs';
<Tabs />
```
""",
        },
    )
    fetched = await fetch(root, base_url="https://help.example.com/docs")
    article = by_key(fetched)["returns/start-a-return.mdx"]
    assert article.title == "How to start a return"
    assert article.url == "https://help.example.com/docs/returns/start"
    assert article.tags == ("returns", "rma")
    assert article.visibility == "public"
    body = article.body
    assert "Open **Orders** and choose the order." in body
    assert "**On the website**" in body and "Select **Return items**." in body
    assert "**In the app**" in body and "Tap **Return**." in body
    assert "**Keep the label**\nPrint the label within 14 days." in body
    for gone in ("<Tabs", "</TabItem>", "Highlight", "audience", "sidebar too", ":::", "import TabItem"):
        assert gone not in body.split("```jsx")[0], gone
    assert "```jsx\nimport Tabs from '@theme/Tabs';\n<Tabs />\n```" in body  # code is never touched


async def test_hugo_toml_front_matter(tmp_path: Path) -> None:
    root = tmp_path / "content"
    write(
        root,
        {
            "shipping/_index.md": '+++\ntitle = "Shipping"\n+++\nEverything about shipping.\n',
            "shipping/customs.md": """+++
title = "Customs fees when shipping abroad"
date = 2024-03-01T10:00:00Z
draft = false
tags = ["customs", "international"]
categories = ["Shipping"]
url = "/help/customs-fees/"

[params]
  visibility = "internal"
  [params.author]
    name = "Kim"
+++

Orders outside the EU may be charged **import duties**.
""",
            "shipping/new-carrier.md": '+++\ntitle = "A new carrier"\ndraft = true\n+++\nNot yet.\n',
        },
    )
    fetched = await fetch(root, base_url="https://help.example.com/")
    articles = by_key(fetched)
    customs = articles["shipping/customs.md"]
    assert customs.title == "Customs fees when shipping abroad"
    assert customs.visibility == "internal"  # Hugo keeps a page's own keys in params
    assert customs.url == "https://help.example.com/help/customs-fees/"
    assert customs.tags == ("customs", "international", "shipping")
    assert customs.body == "Orders outside the EU may be charged **import duties**."
    assert articles["shipping/_index.md"].url == "https://help.example.com/shipping/"
    assert articles["shipping/_index.md"].title == "Shipping"
    assert reasons(fetched) == {"shipping/new-carrier.md": "draft"}


async def test_jekyll_yaml_quirks(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write(
        root,
        {
            "_posts/2024-01-05-gift-cards.md": """---
layout: post
title: 'It''s easy: gift cards'
permalink: /help/gift-cards.html
tags: gifts vouchers
author:
  name: Sam
  twitter: "@sam"
visibility: internal
lang: en-GB
---
Gift cards never expire.
""",
            "_drafts/secret.md": "---\ntitle: Secret\n---\nNot read.\n",
            "_includes/footer.html": "<footer>Copyright</footer>",
            "_layouts/default.html": "<html><body>{{ content }}</body></html>",
            "unpublished.md": "---\ntitle: Soon\npublished: false\n---\nLater.\n",
            ".hidden/notes.md": "# Hidden\n\nNot read.\n",
        },
    )
    fetched = await fetch(root, base_url="https://shop.example.com")
    assert set(by_key(fetched)) == {"_posts/2024-01-05-gift-cards.md"}
    article = by_key(fetched)["_posts/2024-01-05-gift-cards.md"]
    assert article.title == "It's easy: gift cards"
    assert article.url == "https://shop.example.com/help/gift-cards.html"
    assert article.tags == ("gifts", "vouchers")
    assert article.visibility == "internal"
    assert article.locale == "en-GB"
    assert reasons(fetched) == {"unpublished.md": "draft"}


async def test_mkdocs_without_front_matter_titles_from_headings(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write(
        root,
        {
            "index.md": "# Welcome to the help centre\n\nStart here.\n",
            "README.md": "# Docs repository\n\nHow to edit these docs.\n",
            "setup/README.md": "Setting up\n==========\n\nInstall the app.\n",
            "setup/two-factor.md": "<!-- editor's note: check with security -->\nSome intro.\n\n"
            "## Turn on *two-factor* sign-in\n\nOpen [settings](https://x.example/s).\n",
            "setup/no-heading.markdown": "Just text, no heading.\n",
            "mkdocs-notes.txt": "not a page",
        },
    )
    fetched = await fetch(root, base_url="https://docs.example.com/")
    articles = by_key(fetched)
    assert set(articles) == {
        "index.md",
        "setup/README.md",
        "setup/two-factor.md",
        "setup/no-heading.markdown",
    }
    assert articles["index.md"].title == "Welcome to the help centre"
    assert articles["index.md"].url == "https://docs.example.com/"
    assert articles["setup/README.md"].title == "Setting up"
    assert articles["setup/README.md"].url == "https://docs.example.com/setup/"
    assert articles["setup/two-factor.md"].title == "Turn on two-factor sign-in"
    assert articles["setup/two-factor.md"].url == "https://docs.example.com/setup/two-factor"
    assert "editor's note" not in articles["setup/two-factor.md"].body
    assert articles["setup/no-heading.markdown"].title == "No heading"
    assert reasons(fetched) == {"README.md": "README beside index.md, which is the folder's page"}


async def test_notion_markdown_export(tmp_path: Path) -> None:
    root = tmp_path / "Export-3f1c"
    page = "Help Centre 8a2b4c6d8e0f1a2b3c4d5e6f7a8b9c0d"
    write(
        root,
        {
            f"{page}.md": "# Help Centre\n\n[Refunds](Help%20Centre/Refunds.md)\n",
            f"{page}/Refunds and store credit 0123456789abcdef0123456789abcdef.md": (
                "# Refunds and store credit\n\nOwner: Support\nStatus: Published\n\nRefunds take 5 days.\n"
            ),
            f"{page}/Empty page 00000000000000000000000000000000.md": "\n",
            f"{page}/Untitled ffffffffffffffffffffffffffffffff.md": "Only a line.\n",
        },
    )
    fetched = await fetch(root, visibility="internal")
    articles = {article.title: article for article in fetched.articles}
    assert set(articles) == {"Help Centre", "Refunds and store credit", "Untitled"}
    refunds = articles["Refunds and store credit"]
    assert refunds.visibility == "internal"
    assert refunds.url == ""
    assert "Refunds take 5 days." in refunds.body
    assert list(reasons(fetched).values()) == ["no text"]


CONFLUENCE_PAGE = """<!DOCTYPE html>
<html>
<head>
<title>Support Handbook : Refund approval policy</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
</head>
<body class="theme-default aui-theme-default">
<div id="page">
<div id="main" class="aui-page-panel">
  <div id="main-header">
    <div id="breadcrumb-section">
      <ol id="breadcrumbs">
        <li class="first"><span><a href="index.html">Support Handbook</a></span></li>
        <li><span><a href="Policies_98305.html">Policies</a></span></li>
      </ol>
    </div>
    <h1 id="title-heading" class="pagetitle">
      <span id="title-text"> Support Handbook : Refund approval policy </span>
    </h1>
  </div>
  <div id="content" class="view">
    <div class="page-metadata">Created by <span class="author">Kim</span>, last modified on Mar 01, 2024</div>
    <div id="main-content" class="wiki-content group">
      <p>Refunds over <strong>200 EUR</strong> need a lead's approval
        (<a href="Leads_98311.html">leads</a>).</p>
      <ul><li>Check the order</li><li>Ask in #refunds</li></ul>
    </div>
  </div>
</div>
<div id="footer" role="contentinfo"><section class="footer-body">
  <p>Document generated by Confluence on Mar 02, 2024 09:00</p></section></div>
</div>
</body>
</html>
"""


async def test_confluence_html_export(tmp_path: Path) -> None:
    root = tmp_path / "SUP"
    write(root, {"Refund-approval-policy_98310.html": CONFLUENCE_PAGE})
    fetched = await fetch(root, visibility="internal", base_url="https://wiki.example.com/SUP/")
    (article,) = fetched.articles
    assert article.url == "https://wiki.example.com/SUP/Refund-approval-policy_98310.html"
    assert article.title == "Refund approval policy"
    assert article.visibility == "internal"
    assert "approval\n([leads](https://wiki.example.com/SUP/Leads_98311.html))." in article.body
    assert article.body.startswith("Refunds over **200 EUR** need a lead's approval")
    assert "- Check the order" in article.body
    for gone in ("Policies", "Document generated by Confluence", "breadcrumb"):
        assert gone not in article.body


async def test_visibility_is_never_guessed(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    write(
        root,
        {
            "misspelt.md": "---\ntitle: Fraud review\nvisibilty: internal\nauthor: Kim\n---\nStaff only.\n",
            "capitalised.md": "---\ntitle: Playbook\nVisibility: Internal\n---\nStaff only.\n",
            "unknown-value.md": "---\ntitle: Secret\nvisibility: staff\n---\nStaff only.\n",
            "not-a-table.md": "---\nvisibility internal\n---\nStaff only.\n",
            "unclosed.md": "---\ntitle: Open\nvisibility: internal\nStaff only.\n",
            "broken-yaml.md": "---\ntitle: [unclosed\n---\nText.\n",
            "broken-toml.md": '+++\ntitle = "x\n+++\nText.\n',
            "fine.md": "---\ntitle: Fine\nvisible_in_nav: true\n---\nHello.\n",
            "nested.md": "---\ntitle: Nested\nextra:\n  access:\n    visibility: internal\n---\nStaff.\n",
            "hugo-misspelt.md": '+++\ntitle = "x"\n[params]\nvisiblity = "internal"\n+++\nStaff.\n',
            "hugo-disagrees.md": '+++\nvisibility = "public"\n[params]\nvisibility = "internal"\n+++\nx\n',
        },
    )
    fetched = await fetch(root)
    assert set(by_key(fetched)) == {"capitalised.md", "fine.md"}
    assert by_key(fetched)["capitalised.md"].visibility == "internal"
    assert by_key(fetched)["fine.md"].visibility == "public"
    skipped = reasons(fetched)
    assert skipped["misspelt.md"] == "unknown front matter key 'visibilty' (did you mean 'visibility'?)"
    assert skipped["unknown-value.md"] == "visibility must be 'public' or 'internal', not 'staff'"
    assert skipped["not-a-table.md"] == "front matter is not a table of 'key: value' lines"
    assert skipped["unclosed.md"] == "front matter is not closed by a '---' line"
    assert (
        skipped["nested.md"]
        == "extra.access.visibility is not read (visibility goes at the top of the front matter)"
    )
    assert (
        skipped["hugo-misspelt.md"]
        == "unknown front matter key 'params.visiblity' (did you mean 'visibility'?)"
    )
    assert skipped["hugo-disagrees.md"] == "visibility and params.visibility disagree"
    assert skipped["broken-yaml.md"].startswith("front matter cannot be parsed:")
    assert skipped["broken-toml.md"].startswith("front matter cannot be parsed:")


async def test_title_url_and_tags_as_a_help_centre_article_writes_them(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    write(
        root,
        {
            "returns.md": (
                '---\ntitle: "Returns: the short version"   # a comment after a quoted value\n'
                "url: https://help.example/articles/returns\nvisibility: internal\n"
                'tags: [Returns, refunds, "rma"]\n# a comment line\n---\n# Heading\n\nBody text.\n'
            ),
            "block.md": "---\ntitle: T\ntags:\n  - Shipping\n  - 'ups'  # carrier\n  - shipping\n---\nx\n",
            "comma.md": "---\ntitle: T\ntags: a, b ,\n---\nx\n",
            "no-url.md": "---\ntitle: T\nurl:\n---\nx\n",
            "not-http.md": "---\ntitle: T\nurl: javascript:alert(1)\n---\nx\n",
            "bell.md": '---\ntitle: "Bad\\abell"\n---\nx\n',  # YAML's escape of a control character
        },
    )
    articles = by_key(await fetch(root))
    returns = articles["returns.md"]
    assert (returns.title, returns.url, returns.visibility) == (
        "Returns: the short version",
        "https://help.example/articles/returns",
        "internal",
    )
    assert returns.tags == ("returns", "refunds", "rma")
    assert returns.body.startswith("# Heading") and "Body text." in returns.body
    assert articles["block.md"].tags == ("shipping", "ups")
    assert articles["comma.md"].tags == ("a", "b")
    assert articles["no-url.md"].url == articles["not-http.md"].url == ""  # never a link that is not http(s)
    assert articles["bell.md"].title == "Bad bell"


async def test_bounds_include_exclude_and_unreadable_files(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    write(
        root,
        {
            "a.md": "# A\n\ntext\n",
            "b.md": "# B\n\n" + "x" * 5_000 + "\n",
            "c.md": b"# C\n\n\xff\xfe latin-1 \xe9\n",
            "d.md": "# D\n\ntext\n",
            "e.md": "# E\n\ntext\n",
            "blog/f.md": "# F\n\ntext\n",
            "blog/g.md": "# G\n\ntext\n",
        },
    )
    fetched = await fetch(root, max_file_bytes=1_000, max_files=4, exclude=["blog/*"])
    assert set(by_key(fetched)) == {"a.md", "d.md"}
    assert reasons(fetched) == {
        "b.md": "5006 bytes, over max_file_bytes (1000)",
        "c.md": "not UTF-8 text",
        "e.md": "more than 4 files (max_files); the rest not read",
    }
    only_blog = await fetch(root, include=["blog/*"], exclude=["*/g.md"])
    assert set(by_key(only_blog)) == {"blog/f.md"}


async def test_links_outside_the_folder_are_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nNot for the index.\n", encoding="utf-8")
    root = tmp_path / "kb"
    write(root, {"a.md": "# A\n\ntext\n"})
    (root / "link.md").symlink_to(secret)
    assert set(by_key(await fetch(root))) == {"a.md"}


async def test_a_missing_folder_is_a_source_error(tmp_path: Path) -> None:
    source = FolderSourceConfig(name="docs", kind="folder", path=Path("nowhere")).open(tmp_path)
    with pytest.raises(SourceError, match=r"nowhere.*does not exist"):
        await source.fetch({}, lambda done, total: None)


def test_config_refuses_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValidationError, match="pth"):
        FolderSourceConfig.model_validate({"name": "docs", "kind": "folder", "path": "kb", "pth": "x"})
    with pytest.raises(ValidationError, match="base_url"):
        FolderSourceConfig.model_validate(
            {"name": "docs", "kind": "folder", "path": "kb", "base_url": "ftp://x"}
        )
    with pytest.raises(ValidationError, match="visibility"):
        FolderSourceConfig.model_validate(
            {"name": "docs", "kind": "folder", "path": "kb", "visibility": "all"}
        )


async def test_a_resync_reads_only_the_files_that_changed(tmp_path: Path) -> None:
    write(tmp_path, {"a.md": "# Returns\n\nFree within 30 days.", "b.md": "# Gift cards\n\nNo expiry."})
    source = FolderSourceConfig(name="docs", kind="folder", path=tmp_path).open(tmp_path)
    first = by_key(await source.fetch({}, lambda done, total: None))
    again = by_key(await source.fetch(first, lambda done, total: None))
    assert all(again[key] is first[key] for key in first)  # handed back unread, validator and all

    (tmp_path / "a.md").write_text("# Returns\n\nFree within 60 days.", encoding="utf-8")
    os.utime(tmp_path / "a.md", ns=(1, 1))  # another modification time, whatever the clock's resolution
    edited = by_key(await source.fetch(again, lambda done, total: None))
    assert "60 days" in edited["a.md"].body and edited["b.md"] is first["b.md"]

    # The source's own settings are part of every article's text: changing them reads every file again.
    internal = FolderSourceConfig(name="docs", kind="folder", path=tmp_path, visibility="internal")
    refetched = by_key(await internal.open(tmp_path).fetch(edited, lambda done, total: None))
    assert {article.visibility for article in refetched.values()} == {"internal"}
