"""SQLite schema migrations (see ``bot.store.migrations`` for the rules).

Datetimes are TEXT in ISO-8601 UTC with microseconds (``2024-05-01T12:00:00.000000+00:00``), which sorts
chronologically as text. Booleans are INTEGER 0/1. A thread is keyed by
``(platform, space_id, channel_id, thread_id)``.
"""

from __future__ import annotations

from bot.store.migrations import Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        name="initial",
        statements=(
            # Inbound platform event ids already handled; pruned after a retention period.
            """
            CREATE TABLE processed_events (
                event_id   TEXT PRIMARY KEY,
                claimed_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX processed_events_claimed_at ON processed_events (claimed_at)",
            # Conversation history. A message id appears at most once per thread (an edit replaces it);
            # turns without a platform message id (empty string) are never merged.
            """
            CREATE TABLE turns (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                platform   TEXT NOT NULL,
                space_id   TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                thread_id  TEXT NOT NULL,
                role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
                author     TEXT NOT NULL,
                text       TEXT NOT NULL,
                message_id TEXT NOT NULL,
                sent_at    TEXT NOT NULL,
                exchange   TEXT NOT NULL DEFAULT '[]'
            )
            """,
            "CREATE INDEX turns_thread ON turns (platform, space_id, channel_id, thread_id, sent_at, id)",
            """
            CREATE UNIQUE INDEX turns_thread_message
                ON turns (platform, space_id, channel_id, thread_id, message_id)
                WHERE message_id <> ''
            """,
            """
            CREATE TABLE identity_links (
                platform    TEXT NOT NULL,
                user_id     TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                linked_at   TEXT NOT NULL,
                PRIMARY KEY (platform, user_id)
            )
            """,
            """
            CREATE TABLE usage (
                id                 INTEGER PRIMARY KEY AUTOINCREMENT,
                platform           TEXT NOT NULL,
                space_id           TEXT NOT NULL,
                channel_id         TEXT NOT NULL,
                thread_id          TEXT NOT NULL,
                reply_id           TEXT NOT NULL,
                model              TEXT NOT NULL,
                input_tokens       INTEGER NOT NULL,
                output_tokens      INTEGER NOT NULL,
                cache_read_tokens  INTEGER NOT NULL,
                cache_write_tokens INTEGER NOT NULL,
                cost_usd           REAL NOT NULL,
                at                 TEXT NOT NULL
            )
            """,
            "CREATE INDEX usage_at ON usage (at)",
            """
            CREATE TABLE tool_calls (
                id          INTEGER PRIMARY KEY AUTOINCREMENT,
                at          TEXT NOT NULL,
                platform    TEXT NOT NULL,
                user_id     TEXT NOT NULL,
                principal   TEXT NOT NULL,
                thread_key  TEXT NOT NULL,
                tool        TEXT NOT NULL,
                args_digest TEXT NOT NULL,
                allowed     INTEGER NOT NULL CHECK (allowed IN (0, 1)),
                outcome     TEXT NOT NULL,
                latency_ms  REAL NOT NULL
            )
            """,
            "CREATE INDEX tool_calls_at ON tool_calls (at, id)",
            """
            CREATE TABLE escalations (
                id          INTEGER PRIMARY KEY AUTOINCREMENT,
                platform    TEXT NOT NULL,
                space_id    TEXT NOT NULL,
                channel_id  TEXT NOT NULL,
                thread_id   TEXT NOT NULL,
                user_id     TEXT NOT NULL,
                summary     TEXT NOT NULL,
                opened_at   TEXT NOT NULL,
                resolved_at TEXT,
                resolved_by TEXT,
                CHECK ((resolved_at IS NULL) = (resolved_by IS NULL))
            )
            """,
            """
            CREATE INDEX escalations_open
                ON escalations (platform, space_id, channel_id, thread_id)
                WHERE resolved_at IS NULL
            """,
            """
            CREATE TABLE feedback (
                reply_id TEXT NOT NULL,
                user_id  TEXT NOT NULL,
                helpful  INTEGER NOT NULL CHECK (helpful IN (0, 1)),
                at       TEXT NOT NULL,
                PRIMARY KEY (reply_id, user_id)
            )
            """,
            """
            CREATE TABLE pending_replies (
                reply_id    TEXT PRIMARY KEY,
                platform    TEXT NOT NULL,
                space_id    TEXT NOT NULL,
                channel_id  TEXT NOT NULL,
                thread_id   TEXT NOT NULL,
                message_ref TEXT NOT NULL,
                started_at  TEXT NOT NULL
            )
            """,
            "CREATE INDEX pending_replies_platform ON pending_replies (platform, started_at)",
        ),
    ),
    Migration(
        version=2,
        name="replies_and_paused_channels",
        statements=(
            # One row per answer, for stats: how fast the first text showed and how the answer ended.
            """
            CREATE TABLE replies (
                reply_id      TEXT PRIMARY KEY,
                platform      TEXT NOT NULL,
                space_id      TEXT NOT NULL,
                channel_id    TEXT NOT NULL,
                thread_id     TEXT NOT NULL,
                started_at    TEXT NOT NULL,
                first_text_ms REAL,
                failed        INTEGER NOT NULL CHECK (failed IN (0, 1)),
                fallback      INTEGER NOT NULL CHECK (fallback IN (0, 1))
            )
            """,
            "CREATE INDEX replies_started_at ON replies (started_at)",
            "CREATE INDEX feedback_at ON feedback (at)",
            # Channels where a lead paused the bot.
            """
            CREATE TABLE paused_channels (
                platform   TEXT NOT NULL,
                space_id   TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                paused_by  TEXT NOT NULL,
                paused_at  TEXT NOT NULL,
                PRIMARY KEY (platform, space_id, channel_id)
            )
            """,
        ),
    ),
    Migration(
        version=3,
        name="thread_summaries_and_limits",
        statements=(
            # The summary of a thread's older turns, up to and including the turn it names; one per thread.
            """
            CREATE TABLE thread_summaries (
                platform                TEXT NOT NULL,
                space_id                TEXT NOT NULL,
                channel_id              TEXT NOT NULL,
                thread_id               TEXT NOT NULL,
                text                    TEXT NOT NULL,
                covers_until_message_id TEXT NOT NULL,
                covers_until_time       TEXT NOT NULL,
                updated_at              TEXT NOT NULL,
                PRIMARY KEY (platform, space_id, channel_id, thread_id)
            )
            """,
            # Why a reply was a limit notice instead of an answer ('rate', 'size', 'budget'); NULL otherwise.
            "ALTER TABLE replies ADD COLUMN limited TEXT",
            # The daily token budget sums a space's usage since midnight.
            "CREATE INDEX usage_space_at ON usage (platform, space_id, at)",
        ),
    ),
    Migration(
        version=4,
        name="turns_answered_for",
        statements=(
            # Whom a bot turn answered: its tool results are replayed only in answers to that person.
            "ALTER TABLE turns ADD COLUMN answered_for TEXT",
        ),
    ),
    Migration(
        version=5,
        name="one_open_escalation_per_thread",
        statements=(
            # Two people asking for a human at the same moment opened two escalations. Keep the oldest
            # open one of each thread (the others are closed as duplicates), then let the database refuse
            # a second open one.
            "UPDATE escalations SET resolved_at = opened_at, resolved_by = 'supportbot:duplicate'"
            " WHERE resolved_at IS NULL AND id NOT IN (SELECT MIN(id) FROM escalations"
            " WHERE resolved_at IS NULL GROUP BY platform, space_id, channel_id, thread_id)",
            "DROP INDEX escalations_open",
            "CREATE UNIQUE INDEX escalations_one_open"
            " ON escalations (platform, space_id, channel_id, thread_id) WHERE resolved_at IS NULL",
        ),
    ),
    Migration(
        version=6,
        name="audit_and_usage_written_once",
        statements=(
            # A statement sent again after its connection broke must not write its row twice: an audit row
            # is one tool call (its time, thread, tool and arguments), a usage row one model's share of an
            # answer at one time.
            "DELETE FROM tool_calls WHERE id NOT IN"
            " (SELECT MIN(id) FROM tool_calls GROUP BY at, thread_key, tool, args_digest)",
            "CREATE UNIQUE INDEX tool_calls_once ON tool_calls (at, thread_key, tool, args_digest)",
            "DELETE FROM usage WHERE id NOT IN (SELECT MIN(id) FROM usage"
            " GROUP BY platform, space_id, channel_id, thread_id, reply_id, model, at)",
            "CREATE UNIQUE INDEX usage_once"
            " ON usage (platform, space_id, channel_id, thread_id, reply_id, model, at)",
        ),
    ),
    Migration(
        version=7,
        name="lead_actions",
        statements=(
            # What support leads did with /support (link, pause, resolve, …): who, when, where, on what.
            # Bounded by the store (the newest rows are kept); a row sent twice is kept once.
            """
            CREATE TABLE lead_actions (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                at         TEXT NOT NULL,
                platform   TEXT NOT NULL,
                space_id   TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                user_id    TEXT NOT NULL,
                action     TEXT NOT NULL,
                argument   TEXT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX lead_actions_once ON lead_actions (at, platform, space_id, user_id, action)",
            "CREATE INDEX lead_actions_space ON lead_actions (platform, space_id, at, id)",
        ),
    ),
    Migration(
        version=8,
        name="privacy",
        statements=(
            # Who wrote a person's turn, and whom a reply row answered: how `forget` finds a person's rows.
            "ALTER TABLE turns ADD COLUMN user_id TEXT",
            "ALTER TABLE replies ADD COLUMN user_id TEXT",
            "CREATE INDEX turns_user ON turns (platform, user_id) WHERE user_id IS NOT NULL",
            "CREATE INDEX turns_answered_for ON turns (platform, answered_for)"
            " WHERE answered_for IS NOT NULL",
            "CREATE INDEX replies_user ON replies (platform, user_id) WHERE user_id IS NOT NULL",
            "CREATE INDEX feedback_user ON feedback (user_id)",
            "CREATE INDEX escalations_user ON escalations (platform, user_id)",
            # What the retention pruning walks by age.
            "CREATE INDEX turns_sent_at ON turns (sent_at)",
            "CREATE INDEX thread_summaries_covers_until ON thread_summaries (covers_until_time)",
            "CREATE INDEX escalations_resolved_at ON escalations (resolved_at)",
            "CREATE INDEX pending_replies_started_at ON pending_replies (started_at)",
        ),
    ),
    Migration(
        version=9,
        name="dashboard_links",
        statements=(
            # The leads' dashboard: a sign-in link is single-use; its nonce is recorded when it is opened,
            # shared by every instance, and forgotten once the link has expired.
            """
            CREATE TABLE dashboard_links_used (
                nonce      TEXT PRIMARY KEY,
                opened_at  TEXT NOT NULL,
                expires_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX dashboard_links_used_expires_at ON dashboard_links_used (expires_at)",
        ),
    ),
    Migration(
        version=10,
        name="knowledge_articles",
        statements=(
            # The articles of every knowledge source as last synced (``bot.kb.sync``): the truth every
            # instance's local search index follows. ``seq`` is the article's last change in one sequence
            # shared by all sources; a removed article stays as a row with ``removed`` set (its text
            # cleared), so that a follower learns of the removal from the changes after its own ``seq``.
            """
            CREATE TABLE kb_articles (
                source       TEXT NOT NULL,
                key          TEXT NOT NULL,
                title        TEXT NOT NULL,
                url          TEXT NOT NULL,
                visibility   TEXT NOT NULL CHECK (visibility IN ('public', 'internal')),
                tags         TEXT NOT NULL,
                body         TEXT NOT NULL,
                locale       TEXT,
                validator    TEXT,
                content_hash TEXT NOT NULL,
                updated_at   TEXT NOT NULL,
                seq          INTEGER NOT NULL,
                removed      INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1)),
                PRIMARY KEY (source, key)
            )
            """,
            "CREATE UNIQUE INDEX kb_articles_seq ON kb_articles (seq)",
            # The last change number handed out: one row, updated (and so locked) by every sync's
            # transaction, so that changes become visible in the order of their numbers.
            "CREATE TABLE kb_sequence (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)",
            "INSERT INTO kb_sequence (id, seq) VALUES (1, 0)",
            # Each source's last sync: when it was tried, when it last succeeded, why it last failed.
            """
            CREATE TABLE kb_source_status (
                source          TEXT PRIMARY KEY,
                last_attempt_at TEXT NOT NULL,
                last_success_at TEXT,
                last_error      TEXT,
                articles        INTEGER NOT NULL,
                added           INTEGER NOT NULL,
                updated         INTEGER NOT NULL,
                removed         INTEGER NOT NULL,
                skipped         INTEGER NOT NULL
            )
            """,
        ),
    ),
    Migration(
        version=11,
        name="answer_records_and_kb_drafts",
        statements=(
            # What each answer did (bot.quality.record): the asker's question and the answer's start (masked,
            # bounded), the searches it made (JSON: query, top scores, hit count, nothing relevant), the
            # articles it cited (JSON), whether search found nothing relevant and whether the fallback
            # answered. Feedback and escalations are joined by reply id and thread.
            """
            CREATE TABLE answer_records (
                reply_id      TEXT PRIMARY KEY,
                platform      TEXT NOT NULL,
                space_id      TEXT NOT NULL,
                channel_id    TEXT NOT NULL,
                thread_id     TEXT NOT NULL,
                message_id    TEXT NOT NULL,
                user_id       TEXT,
                at            TEXT NOT NULL,
                question      TEXT NOT NULL,
                answer        TEXT NOT NULL,
                searches      TEXT NOT NULL,
                cited         TEXT NOT NULL,
                nothing_found INTEGER NOT NULL,
                fallback      INTEGER NOT NULL
            )
            """,
            "CREATE INDEX answer_records_at ON answer_records (at)",
            "CREATE INDEX answer_records_thread"
            " ON answer_records (platform, space_id, channel_id, thread_id)",
            "CREATE INDEX answer_records_user"
            " ON answer_records (platform, user_id) WHERE user_id IS NOT NULL",
            # KB articles drafted from resolved threads (bot.quality.drafts): waiting for a lead, published as
            # an article of the ``drafts`` source (public or internal), or discarded. One waiting draft per
            # thread: drafting again replaces it.
            """
            CREATE TABLE kb_drafts (
                id             INTEGER PRIMARY KEY AUTOINCREMENT,
                platform       TEXT NOT NULL,
                space_id       TEXT NOT NULL,
                channel_id     TEXT NOT NULL,
                thread_id      TEXT NOT NULL,
                title          TEXT NOT NULL,
                question       TEXT NOT NULL,
                body           TEXT NOT NULL,
                drafted_by     TEXT NOT NULL,
                made_with      TEXT NOT NULL,
                created_at     TEXT NOT NULL,
                updated_at     TEXT NOT NULL,
                status         TEXT NOT NULL CHECK (status IN ('draft', 'published', 'discarded')),
                visibility     TEXT CHECK (visibility IN ('public', 'internal')),
                decided_by     TEXT,
                decided_at     TEXT
            )
            """,
            "CREATE UNIQUE INDEX kb_drafts_one_waiting"
            " ON kb_drafts (platform, space_id, channel_id, thread_id) WHERE status = 'draft'",
            "CREATE INDEX kb_drafts_status ON kb_drafts (status, updated_at)",
        ),
    ),
    Migration(
        version=12,
        name="handoff_outbox",
        statements=(
            # Escalations on their way to a helpdesk (bot.handoff): one row per escalation and target
            # ('webhook', 'zendesk'), kept until delivered so a restart loses none; tried again with
            # back-off. ``payload`` is the JSON sent (masked transcript, bounded); ``ticket_url`` is the
            # helpdesk's link once a ticket exists.
            """
            CREATE TABLE handoff_outbox (
                id              INTEGER PRIMARY KEY AUTOINCREMENT,
                escalation_id   BIGINT NOT NULL,
                target          TEXT NOT NULL,
                platform        TEXT NOT NULL,
                space_id        TEXT NOT NULL,
                channel_id      TEXT NOT NULL,
                thread_id       TEXT NOT NULL,
                payload         TEXT NOT NULL,
                created_at      TEXT NOT NULL,
                attempts        INTEGER NOT NULL,
                next_attempt_at TEXT NOT NULL,
                last_error      TEXT,
                delivered_at    TEXT,
                ticket_id       TEXT,
                ticket_url      TEXT
            )
            """,
            "CREATE UNIQUE INDEX handoff_outbox_one ON handoff_outbox (escalation_id, target)",
            "CREATE INDEX handoff_outbox_due ON handoff_outbox (next_attempt_at) WHERE delivered_at IS NULL",
        ),
    ),
    Migration(
        version=13,
        name="solved_threads",
        statements=(
            # Threads marked solved by their asker or staff (the Discord "Mark solved" button and message
            # command): one row per thread, the first mark kept; counted by /support stats.
            """
            CREATE TABLE solved_threads (
                platform   TEXT NOT NULL,
                space_id   TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                thread_id  TEXT NOT NULL,
                solved_by  TEXT NOT NULL,
                message_id TEXT NOT NULL,
                solved_at  TEXT NOT NULL,
                PRIMARY KEY (platform, space_id, channel_id, thread_id)
            )
            """,
            "CREATE INDEX solved_threads_at ON solved_threads (solved_at)",
        ),
    ),
    Migration(
        version=14,
        name="knowledge_removals_kept",
        statements=(
            # Removed articles' rows are deleted once older than the bound ``bot.kb.schedule`` keeps them
            # for (``KnowledgeStore.forget_removals``); ``pruned_through`` is the highest change number
            # deleted so, and a follower behind it is told to read the store again from the start.
            "ALTER TABLE kb_sequence ADD COLUMN pruned_through INTEGER NOT NULL DEFAULT 0",
            "CREATE INDEX kb_articles_removed_at ON kb_articles (updated_at) WHERE removed = 1",
        ),
    ),
    Migration(
        version=15,
        name="solved_threads_by",
        statements=(
            # ``supportbot forget`` clears the person who marked a thread solved (``solved_by``), read by
            # that column rather than by scanning the table.
            "CREATE INDEX solved_threads_by ON solved_threads (solved_by)",
        ),
    ),
    Migration(
        version=16,
        name="store_identity",
        statements=(
            # This database's identity, made once: a random UUID (version 4), its layout written out in SQL.
            # A knowledge-base index records the store it follows (``ChangeBatch.store_id``), so that an
            # index built from another database is filled anew from this one rather than served
            # (``bot.kb.follow``).
            "CREATE TABLE store_identity (id INTEGER PRIMARY KEY CHECK (id = 1), store_id TEXT NOT NULL)",
            "INSERT INTO store_identity (id, store_id) VALUES (1, lower("
            " hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'"
            " || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2) || '-'"
            " || hex(randomblob(6))))",
        ),
    ),
)

__all__ = ["MIGRATIONS"]
