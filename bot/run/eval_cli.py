"""`supportbot eval`: golden conversations (`evals/*.yaml`) through the whole bot, checked (`bot/eval/`).

Each case runs on an app of its own, built here as `build_app` builds it for the front ends (same tools,
same authorization), on a fresh SQLite store, orders database and coordination in a temporary folder; the
knowledge base is indexed once for the run. The model is the configured one (ANTHROPIC_API_KEY,
ANTHROPIC_BASE_URL); without a key the built-in fallback answers, and the output says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.home import find_home

if TYPE_CHECKING:
    from bot.eval.batch import BatchLLM
    from bot.eval.cases import LoadedCase
    from bot.eval.compare import Variant
    from bot.eval.runner import CaseResult, Judge
    from bot.runtime import App
    from bot.settings import Settings

NO_MODEL_NOTE = "no model: ANTHROPIC_API_KEY is not set, so the built-in fallback answers (no AI model)"


def add_eval_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "eval", help="run the golden conversations in evals/ through the bot and check the answers"
    )
    run.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="case files or folders (default: evals/)"
    )
    run.add_argument("--json", action="store_true", help="print the results as one JSON object")
    run.add_argument("--html", type=Path, metavar="REPORT", help="also write a self-contained HTML report")
    run.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="run the cases twice and show the differences: prompt:PATH prompt:PATH or model:NAME model:NAME",
    )
    run.add_argument(
        "--batch", action="store_true", help="send the model's requests through the Message Batches API"
    )
    run.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="run only this case (repeatable)"
    )
    run.add_argument("--judge", action="store_true", help="grade the cases' judge: rubrics with the model")


def load_selected(paths: Sequence[Path], only: Sequence[str]) -> list[LoadedCase]:
    """The cases of ``paths`` (default: the project's ``evals/``), those named in ``only`` when given; a bad
    case file or an unknown name is a one-line `ConfigError`."""
    from bot.eval.cases import CaseFileError, load_cases

    try:
        cases = load_cases(list(paths) or [find_home().resolve(Path("evals"))])
    except CaseFileError as exc:
        raise ConfigError(str(exc)) from None
    if not only:
        return cases
    names = {loaded.case.name for loaded in cases}
    unknown = [name for name in only if name not in names]
    if unknown:
        raise ConfigError(f"--only: no case named {', '.join(map(repr, unknown))}")
    return [loaded for loaded in cases if loaded.case.name in only]


async def run_eval_command(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from bot.eval.compare import Variant, compare_json, print_comparison
    from bot.eval.report import print_table, suite_json

    cases = load_selected(args.paths, args.only)
    try:
        variants = tuple(Variant.parse(spec) for spec in args.compare) if args.compare else ()
    except ValueError as exc:
        raise ConfigError(f"--compare: {exc}") from None
    if variants and variants[0].kind != variants[1].kind:
        raise ConfigError("--compare: compare two prompts or two models, not one of each")
    keyed = settings.anthropic_api_key is not None
    if args.batch and not keyed:
        raise ConfigError("--batch: ANTHROPIC_API_KEY is not set (the Message Batches API needs a key)")
    if not keyed:
        print(f"supportbot eval: {NO_MODEL_NOTE}", file=sys.stderr)
    if args.judge and not keyed:
        print("supportbot eval: --judge needs a model; the judge: rubrics are not graded", file=sys.stderr)
    console = Console(highlight=False, soft_wrap=False)
    if variants:
        a_variant, b_variant = variants[0], variants[1]
        a = await _run(cases, _with_variant(settings, a_variant), args)
        b = await _run(cases, _with_variant(settings, b_variant), args)
        if args.json:
            print(json.dumps(compare_json((a_variant, b_variant), a, b), indent=2, ensure_ascii=False))
        else:
            print_comparison(console, (a_variant, b_variant), a, b)
        if args.html:
            _write_html(args.html, [*a, *b], f"{a_variant.label} | {b_variant.label}", console, args.json)
        return 0 if all(result.passed for result in [*a, *b]) else 1
    results = await _run(cases, settings, args)
    label = _model_label(settings, args.batch)
    if args.json:
        print(json.dumps(suite_json(results, label), indent=2, ensure_ascii=False))
    else:
        print_table(console, results, label)
    if args.html:
        _write_html(args.html, results, label, console, args.json)
    return 0 if all(result.passed for result in results) else 1


def _with_variant(settings: Settings, variant: Variant) -> Settings:
    if variant.kind == "prompt":
        return settings.model_copy(update={"system_prompt_path": Path(variant.value).resolve()})
    return settings.model_copy(update={"answer_model": variant.value})


def _model_label(settings: Settings, batch: bool) -> str:
    if settings.anthropic_api_key is None:
        return NO_MODEL_NOTE
    where = f" at {settings.anthropic_base_url}" if settings.anthropic_base_url else ""
    return f"{settings.answer_model}{where}{' (Message Batches API, half price)' if batch else ''}"


def _write_html(path: Path, results: Sequence[CaseResult], label: str, console: object, quiet: bool) -> None:
    from bot.eval.html import html_report

    try:
        path.write_text(html_report(results, label), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--html: cannot write {path}: {exc.strerror}") from None
    if not quiet:
        print(f"wrote {path}")


async def _run(cases: Sequence[LoadedCase], settings: Settings, args: argparse.Namespace) -> list[CaseResult]:
    """The cases on ``settings``: one app per case in a temporary folder, the knowledge base indexed once."""
    from bot.agent.llm import AnthropicLLM
    from bot.eval.batch import BatchLLM
    from bot.eval.judge import ModelJudge
    from bot.eval.runner import run_suite
    from bot.run.app import build_app, build_llm

    if not settings.kb_path.is_dir():
        raise ConfigError(f"KB_PATH: {settings.kb_path} is not a folder of Markdown articles")
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None
    batch = (
        BatchLLM.from_key(
            key,
            base_url=settings.anthropic_base_url,
            max_retries=settings.model_max_retries,
            timeout=settings.model_timeout_seconds,
        )
        if args.batch and key
        else None
    )
    judge_llm = build_llm(settings) if args.judge and batch is None else None
    judge: Judge | None = None
    if args.judge and (batch or judge_llm):
        judge = ModelJudge(batch or judge_llm, settings.answer_model)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="supportbot-eval-") as work:
        folder = Path(work)
        base = settings.model_copy(update={"redis_url": None})
        template = folder / "template"

        @contextlib.asynccontextmanager
        async def open_app(case_folder: Path | None = None) -> AsyncIterator[App]:
            """An app of its own for one case: a copy of the template's store (its articles, and the
            store's identity that the index records) and of its index, so no case indexes again."""
            if case_folder is None:
                case_folder = Path(tempfile.mkdtemp(dir=folder))
                for name in ("store.db", "store.db-wal", "kb.sqlite3", "kb.sqlite3-wal"):
                    if (template / name).exists():  # a write-ahead log not yet checkpointed goes along
                        shutil.copyfile(template / name, case_folder / name)
            case_settings = base.model_copy(
                update={
                    "database_url": f"sqlite:///{case_folder / 'store.db'}",
                    "kb_index_path": case_folder / "kb.sqlite3",
                    "orders_db_path": case_folder / "orders.sqlite3",
                }
            )
            async with _taking_part(batch):
                app = await build_app(case_settings, llm=batch, metrics=False)
                try:
                    yield app
                finally:
                    await app.close()

        try:
            template.mkdir()
            async with open_app(template):  # the template: the knowledge base synced and indexed once
                pass
            return await run_suite(
                cases,
                open_app,
                concurrency=len(cases) if batch else 4,
                judge=judge,
                price_factor=0.5 if batch else 1.0,
            )
        finally:
            if batch is not None:
                await batch.close()
            if isinstance(judge_llm, AnthropicLLM):
                await judge_llm.close()


@contextlib.asynccontextmanager
async def _taking_part(batch: BatchLLM | None) -> AsyncIterator[None]:
    if batch is None:
        yield
        return
    async with batch.taking_part():
        yield
