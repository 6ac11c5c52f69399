"""Knowledge-base search benchmark: index N synthetic articles with the real indexing code (sections, the
full-text index and the vectors), then time hybrid queries through the ``search_kb`` tool.

    python bench/kb_search.py [--articles 100000] [--queries 2000] [--seed 7]

The index is built in this process; the queries run in a fresh child process that only opens it, as a
serving instance does, so that its resident memory before the first search and after the last one tells
what the index (the embedding model, the vectors in memory, SQLite's pages) adds to a serving process.

The corpus is deterministic. Each article has a handful of topic words (mid-frequency words of a
synthetic vocabulary) over a body of common English words and Zipf-distributed vocabulary words, about
120 words in all; a tenth of the articles are internal. Queries are what people type: two to four words
of one article's topic, sometimes with a filler phrase ("how do i …") or a frequent general word, which
is the expensive case because it matches a large share of the corpus.

Prints figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import Figure, emit
from bot.kb.embeddings import shared_embedder
from bot.kb.index import KnowledgeBase
from bot.kb.layout import MAX_SECTION_CHARS
from bot.kb.lexical import STOPWORDS
from bot.kb.sources.base import ArticleChange, SourceArticle

TARGET_P50_MS = 10.0
TARGET_P99_MS = 40.0
TARGET_BUILD_S = 120.0
TARGET_ADDED_RSS_MB = 150.0

#: Article changes per KnowledgeBase.apply(), as a sync replaying the store hands them over.
APPLY_BATCH = 10_000

_ONSETS = ("b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "st", "tr")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou", "ea")
_CODAS = ("", "", "n", "r", "s", "t", "l", "m", "nd", "rk")
_FILLERS = ("how do i", "what is the", "can i", "where is my", "help with", "")


@dataclass(frozen=True)
class Corpus:
    """A synthetic vocabulary and the distributions articles and queries are drawn from."""

    rng: random.Random
    words: list[str]  # by decreasing frequency
    cum_weights: list[float]  # Zipf (s = 1) over ``words``
    function_words: list[str]

    @classmethod
    def create(cls, seed: int, vocabulary: int) -> Corpus:
        rng = random.Random(seed)
        words: dict[str, None] = {}
        while len(words) < vocabulary:
            word = "".join(
                rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                for _ in range(rng.choice((1, 2, 2, 3)))
            )
            if len(word) >= 3 and word not in STOPWORDS:
                words[word] = None
        total = 0.0
        cum_weights = []
        for rank in range(1, vocabulary + 1):
            total += 1.0 / rank
            cum_weights.append(total)
        return cls(rng, list(words), cum_weights, sorted(STOPWORDS))

    def common(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum_weights, k=k)

    def topic(self) -> list[str]:
        """Six mid-frequency words: what an article is about."""
        return self.rng.sample(self.words[150:], 6)

    def article(self, number: int) -> tuple[SourceArticle, list[str]]:
        rng = self.rng
        topic = self.topic()
        words = rng.choices(self.function_words, k=40) + self.common(62) + rng.choices(topic, k=18)
        rng.shuffle(words)
        sentences = [" ".join(words[i : i + 12]).capitalize() + "." for i in range(0, len(words), 12)]
        title_words = rng.sample(topic, 2) + self.common(rng.randint(1, 3))
        rng.shuffle(title_words)
        slug = f"article-{number:06d}"
        article = SourceArticle(
            key=slug,
            title=" ".join(title_words).capitalize(),
            url=f"https://help.example/articles/{slug}",
            visibility="internal" if rng.random() < 0.1 else "public",
            tags=tuple(topic[:2]),
            body="\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)),
        )
        return article, topic

    def query(self, topic: list[str]) -> str:
        rng = self.rng
        words = rng.sample(topic, rng.randint(1, 3))
        if len(words) < 2 or rng.random() < 0.3:
            words += self.common(1)
        return f"{rng.choice(_FILLERS)} {' '.join(words)}".strip()


class Workload:
    """The articles (a stream, so 100k of them are never all in memory) and the queries.

    Queries are drawn from the topics of randomly chosen articles as those articles are generated;
    ``generate_seconds`` is the time spent making articles, so that it can be told apart from indexing.
    """

    def __init__(self, corpus: Corpus, articles: int, queries: int) -> None:
        self.corpus = corpus
        self.count = articles
        self.wanted = queries
        self.queries: list[str] = []
        self.generate_seconds = 0.0

    def articles(self) -> Iterator[SourceArticle]:
        chosen = set(self.corpus.rng.sample(range(self.count), min(self.wanted, self.count)))
        for number in range(self.count):
            started = time.perf_counter()
            article, topic = self.corpus.article(number)
            if number in chosen:
                self.queries.append(self.corpus.query(topic))
            self.generate_seconds += time.perf_counter() - started
            yield article
        while len(self.queries) < self.wanted:  # more queries than articles: use fresh topics
            self.queries.append(self.corpus.query(self.corpus.topic()))


def batched(items: Iterator[SourceArticle], size: int) -> Iterator[list[SourceArticle]]:
    batch: list[SourceArticle] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def percentile(samples: list[float], pct: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def repeated_word_search_ms() -> float:
    """One search for the word a 1 MB article repeats (it used to take minutes: snippets were quadratic)."""
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        kb = KnowledgeBase(Path(tmp) / "kb.sqlite3")
        repeated = SourceArticle(
            key="repeated", title="Repeated", url="", body="refund " * 150_000, visibility="public"
        )
        kb.apply([ArticleChange("bench", repeated.key, repeated)], seq=1)
        try:
            started = time.perf_counter()
            kb.search("refund", include_internal=False)
            return (time.perf_counter() - started) * 1000
        finally:
            kb.close()


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


def serve(index_path: Path, queries_path: Path) -> None:
    """The child: open the index, answer every query through ``search_kb``, print figures as JSON."""
    from bot.agent.toolbox import ToolContext
    from bot.types import Principal, Role, ThreadRef
    from tools.kb import SearchKb, SearchKbInput

    queries = json.loads(queries_path.read_text())
    before = rss_mb()
    kb = KnowledgeBase(index_path)
    tool = SearchKb(kb)
    thread = ThreadRef("console", "bench", "bench", "bench")
    people = [
        Principal("console", name, name, frozenset({role}))
        for name, role in (("staff", Role.EMPLOYEE), ("customer", Role.CUSTOMER))
    ]

    async def run() -> tuple[list[float], int, float]:
        started = time.perf_counter()
        ctx = ToolContext(people[0], thread, None, time.monotonic() + 60)  # type: ignore[arg-type]
        await tool.run(SearchKbInput(query="warm up the cache"), ctx)  # loads the model and the vectors
        first_ms = (time.perf_counter() - started) * 1000
        latencies, found = [], 0
        for i, query in enumerate(queries):
            ctx = ToolContext(people[i % 2], thread, None, time.monotonic() + 60)  # type: ignore[arg-type]
            started = time.perf_counter()
            result = await tool.run(SearchKbInput(query=query), ctx)
            latencies.append((time.perf_counter() - started) * 1000)
            found += result.outcome != "not_found"
        return latencies, found, first_ms

    latencies, found, first_ms = asyncio.run(run())
    print(
        json.dumps(
            {
                "latencies": latencies,
                "found": found,
                "first_ms": first_ms,
                "added_mb": rss_mb() - before,
                "semantic": kb.semantic_status() or "on",
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--vocabulary", type=int, default=4_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve", nargs=2, type=Path, metavar=("INDEX", "QUERIES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(*args.serve)
        return

    workload = Workload(Corpus.create(args.seed, args.vocabulary), args.articles, args.queries)
    shared_embedder()  # loaded before the clock starts, as a serving process has it
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        index_path = Path(tmp) / "kb.sqlite3"
        kb = KnowledgeBase(index_path)
        started = time.perf_counter()
        for seq, batch in enumerate(batched(workload.articles(), APPLY_BATCH), start=1):
            kb.apply([ArticleChange("bench", a.key, a) for a in batch], seq=seq)
        index_s = time.perf_counter() - started - workload.generate_seconds
        kb.close()
        size_mb = index_path.stat().st_size / 1e6
        print(f"articles indexed     {args.articles:>10,}  (one section each, {APPLY_BATCH:,} per apply)")
        print(f"generate articles    {workload.generate_seconds:>10.1f} s   (benchmark overhead)")
        print(f"build index          {index_s:>10.1f} s   (target <= {TARGET_BUILD_S:g} s)")
        print(f"index file           {size_mb:>10,.0f} MB")

        queries_path = Path(tmp) / "queries.json"
        queries_path.write_text(json.dumps(workload.queries))
        child = subprocess.run(
            [sys.executable, __file__, "--serve", str(index_path), str(queries_path)],
            check=True,
            capture_output=True,
            text=True,
        )
        served = json.loads(child.stdout.strip().splitlines()[-1])

    latencies = served["latencies"]
    repeated_ms = repeated_word_search_ms()
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(f"semantic search      {served['semantic']}")
    print(f"first search         {served['first_ms']:>10.1f} ms  (loads the model and the vectors)")
    print(f"index adds to RSS    {served['added_mb']:>10.1f} MB  (target <= {TARGET_ADDED_RSS_MB:g} MB)")
    print(
        f"queries              {len(latencies):>10,}  ({served['found']:,} with results, through search_kb)"
    )
    print(f"query p50            {p50:>10.2f} ms  (target <= {TARGET_P50_MS:g} ms)")
    print(f"query p99            {p99:>10.2f} ms  (target <= {TARGET_P99_MS:g} ms)")
    print(f"query max            {max(latencies):>10.2f} ms")
    print(
        f"repeated-word query  {repeated_ms:>10.2f} ms  "
        f"(a 1 MB article of one word, cut to {MAX_SECTION_CHARS:,} characters at index time)"
    )
    emit(
        "kb_search",
        [
            Figure("articles indexed", args.articles),
            Figure("build index", round(index_s, 1), "s", at_most=TARGET_BUILD_S),
            Figure("index adds to RSS", round(served["added_mb"], 1), "MB", at_most=TARGET_ADDED_RSS_MB),
            Figure("query p50", p50, "ms", at_most=TARGET_P50_MS),
            Figure("query p99", p99, "ms", at_most=TARGET_P99_MS),
            Figure("repeated-word query", round(repeated_ms, 2), "ms", note="1 MB of one word"),
        ],
    )


if __name__ == "__main__":
    main()
