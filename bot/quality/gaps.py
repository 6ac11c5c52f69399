"""Coverage gaps: the questions the bot could not answer well, grouped into topics (docs/architecture.md
§6b). ``supportbot gaps`` and ``/support gaps`` show them; the leads' dashboard lists them too.

A question is a gap when its answer (``bot.quality.record``):

- ``nothing_found``: searched the knowledge base and no search found a relevant section. The index
  abstains below its calibrated floor (``bot.kb``), so this is also what "a low top score" means here: the
  recorded scores are comparable within one search only, never across searches, and no second threshold
  is applied to them;
- ``not_helpful``: got a "not helpful" vote;
- ``escalated``: was the thread's last answer before an escalation was opened there (earlier answers of
  the thread are not counted again).

Grouping is lexical and needs no model: each question becomes a TF-IDF vector of its stemmed words (stop
words, numbers and ids left out; ``bot.kb.lexical``), and leader clustering puts it in the topic whose
centroid is nearest by cosine when that is at least ``SIMILARITY``, else it starts a topic. Topics are
listed largest first, each with its count, the reasons, the newest example questions and links to their
threads (``bot.thread_links``). Bounded: the newest ``MAX_ANSWERS`` answers of the period are read and at
most ``MAX_TOPICS`` topics are kept.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.kb.lexical import STOPWORDS, stem, words
from bot.store import AnswerRecord, GapsStore
from bot.thread_links import thread_url
from bot.types import ThreadRef

DEFAULT_DAYS = 7
MAX_DAYS = 365
MAX_ANSWERS = 2_000
"""The newest answers of the period read at most (each is a question)."""
MAX_TOPICS = 50
EXAMPLES = 3
"""Example questions shown per topic (the newest)."""
SIMILARITY = 0.2
"""The least cosine similarity between a question and a topic's centroid for the question to join it."""
LABEL_WORDS = 3
REASONS = ("nothing_found", "not_helpful", "escalated")


@dataclass(frozen=True)
class GapQuestion:
    """One question answered badly: what was asked, why it counts, where."""

    question: str
    reasons: tuple[str, ...]
    at: datetime
    ref: ThreadRef
    reply_id: str

    @property
    def link(self) -> str | None:
        return thread_url(self.ref)


@dataclass(frozen=True)
class GapTopic:
    """Questions alike: ``label`` is the topic's most weighty words; ``examples`` the newest questions."""

    label: str
    count: int
    reasons: dict[str, int]
    examples: tuple[GapQuestion, ...]


@dataclass(frozen=True)
class GapReport:
    since: datetime
    days: int
    platform: str | None
    answers: int
    """Answers looked at in the period (at most ``MAX_ANSWERS``)."""
    questions: int
    """Of those, the gaps."""
    topics: tuple[GapTopic, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "days": self.days,
            "platform": self.platform,
            "answers": self.answers,
            "questions": self.questions,
            "topics": [
                {
                    "label": topic.label,
                    "count": topic.count,
                    "reasons": topic.reasons,
                    "examples": [
                        {
                            "question": example.question,
                            "reasons": list(example.reasons),
                            "at": example.at.isoformat(),
                            "thread": example.ref.key,
                            "link": example.link,
                            "reply_id": example.reply_id,
                        }
                        for example in topic.examples
                    ],
                }
                for topic in self.topics
            ],
        }


async def find_gaps(
    store: GapsStore,
    days: int = DEFAULT_DAYS,
    *,
    platform: str | None = None,
    now: datetime | None = None,
    similarity: float = SIMILARITY,
) -> GapReport:
    """The gaps of the last ``days`` days on ``platform`` (None: every platform), grouped into topics."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS}, not {days}")
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    answers = [
        answer
        for answer in await store.answers_since(since, MAX_ANSWERS)
        if platform is None or answer.ref.platform == platform
    ]
    questions = gap_questions(answers)
    return GapReport(since, days, platform, len(answers), len(questions), group(questions, similarity))


def gap_questions(answers: list[AnswerRecord]) -> list[GapQuestion]:
    """The answers that count as gaps (see the module docstring), newest first as given."""
    last_escalated: set[ThreadRef] = set()
    gaps: list[GapQuestion] = []
    for answer in sorted(answers, key=lambda a: a.at, reverse=True):
        reasons = []
        if answer.nothing_found:
            reasons.append("nothing_found")
        if answer.not_helpful_votes:
            reasons.append("not_helpful")
        if answer.escalated and answer.ref not in last_escalated:
            last_escalated.add(answer.ref)
            reasons.append("escalated")
        if reasons:
            gaps.append(GapQuestion(answer.question, tuple(reasons), answer.at, answer.ref, answer.reply_id))
    return gaps


def _words(text: str) -> list[str]:
    return [word for word in words(text) if word not in STOPWORDS and word.isalpha() and len(word) > 1]


@dataclass
class _Topic:
    centroid: dict[str, float] = field(default_factory=dict)
    members: list[GapQuestion] = field(default_factory=list)

    def similarity(self, vector: dict[str, float]) -> float:
        norm = math.sqrt(sum(v * v for v in self.centroid.values()))
        if not norm:
            return 0.0
        return sum(weight * self.centroid.get(term, 0.0) for term, weight in vector.items()) / norm

    def add(self, question: GapQuestion, vector: dict[str, float]) -> None:
        self.members.append(question)
        for term, weight in vector.items():
            self.centroid[term] = self.centroid.get(term, 0.0) + weight


def group(questions: list[GapQuestion], similarity: float = SIMILARITY) -> tuple[GapTopic, ...]:
    """``questions`` (newest first) grouped into topics by leader clustering of their TF-IDF vectors."""
    said: dict[str, Counter[str]] = {}  # each stem's words as people wrote them, for the labels
    documents = []
    for question in questions:
        terms = []
        for word in _words(question.question):
            terms.append(stem(word))
            said.setdefault(terms[-1], Counter())[word] += 1
        documents.append(terms)
    frequency = Counter(term for terms in documents for term in set(terms))
    count = len(documents)
    topics: list[_Topic] = []
    for question, terms in reversed(list(zip(questions, documents, strict=True))):  # oldest first
        vector = _tfidf(terms, frequency, count)
        best: _Topic | None = None
        if vector:
            scored = [(topic.similarity(vector), index) for index, topic in enumerate(topics)]
            top = max(scored, default=(0.0, -1))
            best = topics[top[1]] if top[0] >= similarity else None
        if best is None:
            best = _Topic()
            topics.append(best)
        best.add(question, vector)
    topics.sort(key=lambda topic: (-len(topic.members), -max(m.at.timestamp() for m in topic.members)))
    return tuple(_shown(topic, said) for topic in topics[:MAX_TOPICS])


def _tfidf(terms: list[str], frequency: Counter[str], count: int) -> dict[str, float]:
    """The L2-normalised TF-IDF vector of one question's terms."""
    tf = Counter(terms)
    vector = {term: n * (math.log((1 + count) / (1 + frequency[term])) + 1) for term, n in tf.items()}
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {term: v / norm for term, v in vector.items()} if norm else {}


def _shown(topic: _Topic, said: dict[str, Counter[str]]) -> GapTopic:
    newest = sorted(topic.members, key=lambda m: m.at, reverse=True)
    heaviest = sorted(topic.centroid.items(), key=lambda item: (-item[1], item[0]))[:LABEL_WORDS]
    shown = [said[term].most_common(1)[0][0] for term, _ in heaviest]
    label = ", ".join(shown) or " ".join(newest[0].question.split())[:60]
    reasons = Counter(reason for member in topic.members for reason in member.reasons)
    return GapTopic(
        label=label,
        count=len(topic.members),
        reasons={reason: reasons[reason] for reason in REASONS if reasons[reason]},
        examples=tuple(newest[:EXAMPLES]),
    )


REASON_WORDS = {"nothing_found": "nothing found", "not_helpful": "not helpful", "escalated": "escalated"}


def format_gaps(report: GapReport, *, example_chars: int = 200) -> str:
    """The report as plain text for the terminal."""
    scope = "all platforms" if report.platform is None else report.platform
    lines = [
        f"Coverage gaps in the last {report.days} day(s), {scope}: {report.questions} question(s) of "
        f"{report.answers} answered in {len(report.topics)} topic(s)",
    ]
    if not report.topics:
        lines.append("No question went unanswered, unhelpful or escalated in this period.")
    for number, topic in enumerate(report.topics, start=1):
        lines += [
            "",
            f"{number}. {topic.label}: {topic.count} question(s) ({describe_reasons(topic.reasons)})",
        ]
        for example in topic.examples:
            question = " ".join(example.question.split())[:example_chars]
            lines.append(f"   - {question!r} {example.link or example.ref.key}")
    return "\n".join(lines)


def describe_reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{count} {REASON_WORDS[reason]}" for reason, count in reasons.items())


__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "GapQuestion",
    "GapReport",
    "GapTopic",
    "describe_reasons",
    "find_gaps",
    "format_gaps",
    "gap_questions",
    "group",
]
