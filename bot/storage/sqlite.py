"""Storage: one small async repository over SQLite, the only module that writes SQL.

It keeps each chat's consent, language and routine progress, and the time the chat's next
timer is due (`wake_at`, indexed), so a timer is simply a row's due time: written in the same
statement as the state it belongs to, re-armed at start-up by reading the index. The schema is
versioned and migrated at start. A PostgreSQL store can take its place behind `Store`.

Knows nothing of Telegram or of what a routine means.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiosqlite

from bot.core.events import Record
from bot.core.safety import dump_safety, load_safety
from bot.core.state import ChatState, dump_routine, load_routine

log = logging.getLogger(__name__)

MIGRATIONS: Sequence[str] = (
    # 1: chats with consent, language, routine progress and the next timer's due time.
    """
    CREATE TABLE chats (
        chat_id         INTEGER PRIMARY KEY,
        locale          TEXT,
        consent_version TEXT,
        consent_at      REAL,
        declined_at     REAL,
        routine         TEXT,
        wake_at         REAL,
        active          INTEGER NOT NULL DEFAULT 1,
        updated_at      REAL NOT NULL
    );
    CREATE INDEX chats_wake_at ON chats (wake_at) WHERE wake_at IS NOT NULL;
    """,
    # 2: reminders, each chat's time zone, and a reminder being set up by buttons.
    """
    ALTER TABLE chats ADD COLUMN timezone TEXT;
    ALTER TABLE chats ADD COLUMN draft TEXT;
    CREATE TABLE reminders (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id     INTEGER NOT NULL,
        local_time  TEXT NOT NULL,
        days        TEXT NOT NULL,
        next_due    REAL NOT NULL,
        snooze_at   REAL,
        created_at  REAL NOT NULL
    );
    CREATE INDEX reminders_chat ON reminders (chat_id);
    CREATE INDEX reminders_next_due ON reminders (next_due);
    CREATE INDEX reminders_snooze_at ON reminders (snooze_at) WHERE snooze_at IS NOT NULL;
    """,
    # 3: a send that failed is tried again as a snooze; this keeps the time it was due, so the
    # retries stop once that is longer ago than the grace period.
    """
    ALTER TABLE reminders ADD COLUMN retry_of REAL;
    """,
    # 4: safety: the last warning-sign check and recent Stops (JSON), reminders paused after a
    # warning sign or a stopped routine, and a log of every safety event, kept for good.
    """
    ALTER TABLE chats ADD COLUMN safety TEXT;
    ALTER TABLE chats ADD COLUMN reminders_paused INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE safety_log (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id   INTEGER NOT NULL,
        at        REAL NOT NULL,
        kind      TEXT NOT NULL,
        answer    TEXT NOT NULL,
        exercise  TEXT,
        side      INTEGER
    );
    CREATE INDEX safety_log_chat ON safety_log (chat_id, at);
    """,
)


@dataclass(frozen=True)
class Due:
    chat_id: int
    at: float


@dataclass(frozen=True)
class ReminderRow:
    id: int
    chat_id: int
    local_time: str  # "HH:MM"
    days: str  # a key from bot.schedule.format_days_key
    next_due: float
    snooze_at: float | None
    retry_of: float | None = None

    @property
    def due_at(self) -> float:
        """When this reminder next wants attention: its day's time, or an earlier snooze."""
        return min(self.next_due, self.snooze_at) if self.snooze_at else self.next_due


_REMINDER = "SELECT id, chat_id, local_time, days, next_due, snooze_at, retry_of FROM reminders"


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def load(self, chat_id: int) -> ChatState: ...
    async def save(self, chat_id: int, state: ChatState, now: float) -> None: ...
    async def set_active(self, chat_id: int, active: bool, now: float) -> None: ...
    async def is_active(self, chat_id: int) -> bool: ...
    async def record(self, chat_id: int, at: float, record: Record) -> None: ...
    async def due(self, now: float, limit: int = 500) -> list[Due]: ...
    async def next_due(self) -> float | None: ...
    async def chat_settings(self, chat_id: int) -> tuple[str | None, str | None]: ...
    async def set_timezone(self, chat_id: int, key: str, now: float) -> None: ...
    async def set_draft(self, chat_id: int, draft: str | None, now: float) -> None: ...
    async def reminders(self, chat_id: int) -> list[ReminderRow]: ...
    async def reminder(self, reminder_id: int) -> ReminderRow | None: ...
    async def add_reminder(
        self, chat_id: int, local_time: str, days: str, next_due: float, now: float
    ) -> int: ...
    async def delete_reminders(self, chat_id: int, reminder_id: int | None = None) -> int: ...
    async def update_reminder(
        self,
        row: ReminderRow,
        *,
        next_due: float,
        snooze_at: float | None,
        retry_of: float | None = None,
    ) -> bool: ...
    async def due_reminders(self, now: float, limit: int = 1000) -> list[ReminderRow]: ...
    async def next_reminder_due(self) -> float | None: ...


class SqliteStore:
    """The embedded default: a file under data/ (or ':memory:')."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self.db.execute("PRAGMA journal_mode=WAL")
        await self.db.execute("PRAGMA synchronous=NORMAL")
        await self._migrate()

    async def _migrate(self) -> None:
        await self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        async with self.db.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        if current > len(MIGRATIONS):
            raise RuntimeError(
                f"{self.path}: database schema {current} is newer than this version of the bot "
                f"knows ({len(MIGRATIONS)}); upgrade the bot"
            )
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            log.info("migrating database to schema %d", version)
            await self.db.executescript(
                f"BEGIN; {script}; INSERT INTO schema_version VALUES ({version}); COMMIT;"
            )

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def load(self, chat_id: int) -> ChatState:
        async with self.db.execute(
            "SELECT locale, consent_version, consent_at, declined_at, routine, safety, "
            "reminders_paused, timezone FROM chats WHERE chat_id = ?",
            (chat_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return ChatState()
        return ChatState(
            locale=row[0],
            consent_version=row[1],
            consent_at=row[2],
            declined_at=row[3],
            routine=load_routine(row[4]),
            safety=load_safety(row[5]),
            reminders_paused=bool(row[6]),
            timezone=row[7],
        )

    async def save(self, chat_id: int, state: ChatState, now: float) -> None:
        await self.db.execute(
            "INSERT INTO chats (chat_id, locale, consent_version, consent_at, declined_at, "
            "routine, wake_at, safety, reminders_paused, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET locale = excluded.locale, "
            "consent_version = excluded.consent_version, consent_at = excluded.consent_at, "
            "declined_at = excluded.declined_at, routine = excluded.routine, "
            "wake_at = excluded.wake_at, safety = excluded.safety, "
            "reminders_paused = excluded.reminders_paused, updated_at = excluded.updated_at",
            (
                chat_id,
                state.locale,
                state.consent_version,
                state.consent_at,
                state.declined_at,
                dump_routine(state.routine),
                state.wake_at,
                dump_safety(state.safety),
                int(state.reminders_paused),
                now,
            ),
        )
        await self.db.commit()

    async def record(self, chat_id: int, at: float, record: Record) -> None:
        """Keep a safety event (a check's answers, a Stop and what followed) for good."""
        await self.db.execute(
            "INSERT INTO safety_log (chat_id, at, kind, answer, exercise, side) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (chat_id, at, record.kind, record.answer, record.exercise, record.side),
        )
        await self.db.commit()

    async def set_active(self, chat_id: int, active: bool, now: float) -> None:
        await self.db.execute(
            "INSERT INTO chats (chat_id, active, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET active = excluded.active, "
            "updated_at = excluded.updated_at",
            (chat_id, int(active), now),
        )
        await self.db.commit()

    async def is_active(self, chat_id: int) -> bool:
        async with self.db.execute("SELECT active FROM chats WHERE chat_id = ?", (chat_id,)) as c:
            row = await c.fetchone()
        return row is None or bool(row[0])

    async def due(self, now: float, limit: int = 500) -> list[Due]:
        async with self.db.execute(
            "SELECT chat_id, wake_at FROM chats WHERE wake_at IS NOT NULL AND wake_at <= ? "
            "ORDER BY wake_at LIMIT ?",
            (now, limit),
        ) as cur:
            return [Due(int(r[0]), float(r[1])) for r in await cur.fetchall()]

    async def next_due(self) -> float | None:
        async with self.db.execute("SELECT MIN(wake_at) FROM chats") as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # -- settings of a chat used by reminders ------------------------------------------------

    async def chat_settings(self, chat_id: int) -> tuple[str | None, str | None]:
        """The chat's time zone key and its reminder draft (JSON), each None when unset."""
        async with self.db.execute(
            "SELECT timezone, draft FROM chats WHERE chat_id = ?", (chat_id,)
        ) as cur:
            row = await cur.fetchone()
        return (row[0], row[1]) if row else (None, None)

    async def set_timezone(self, chat_id: int, key: str, now: float) -> None:
        await self._set_column(chat_id, "timezone", key, now)

    async def set_draft(self, chat_id: int, draft: str | None, now: float) -> None:
        await self._set_column(chat_id, "draft", draft, now)

    async def _set_column(self, chat_id: int, column: str, value: object, now: float) -> None:
        assert column in ("timezone", "draft")
        await self.db.execute(
            f"INSERT INTO chats (chat_id, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT (chat_id) DO UPDATE SET {column} = excluded.{column}, "
            "updated_at = excluded.updated_at",
            (chat_id, value, now),
        )
        await self.db.commit()

    # -- reminders -----------------------------------------------------------------------------

    async def reminders(self, chat_id: int) -> list[ReminderRow]:
        async with self.db.execute(
            f"{_REMINDER} WHERE chat_id = ? ORDER BY local_time, id", (chat_id,)
        ) as cur:
            return [ReminderRow(*r) for r in await cur.fetchall()]

    async def reminder(self, reminder_id: int) -> ReminderRow | None:
        async with self.db.execute(f"{_REMINDER} WHERE id = ?", (reminder_id,)) as cur:
            row = await cur.fetchone()
        return ReminderRow(*row) if row else None

    async def add_reminder(
        self, chat_id: int, local_time: str, days: str, next_due: float, now: float
    ) -> int:
        await self.db.execute(
            "INSERT OR IGNORE INTO chats (chat_id, updated_at) VALUES (?, ?)", (chat_id, now)
        )
        cur = await self.db.execute(
            "INSERT INTO reminders (chat_id, local_time, days, next_due, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (chat_id, local_time, days, next_due, now),
        )
        await self.db.commit()
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def delete_reminders(self, chat_id: int, reminder_id: int | None = None) -> int:
        """Delete one reminder of the chat, or all of them; return how many went."""
        if reminder_id is None:
            cur = await self.db.execute("DELETE FROM reminders WHERE chat_id = ?", (chat_id,))
        else:
            cur = await self.db.execute(
                "DELETE FROM reminders WHERE chat_id = ? AND id = ?", (chat_id, reminder_id)
            )
        await self.db.commit()
        return cur.rowcount

    async def update_reminder(
        self,
        row: ReminderRow,
        *,
        next_due: float,
        snooze_at: float | None,
        retry_of: float | None = None,
    ) -> bool:
        """Move a reminder on, only if nobody else did since `row` was read (a claim)."""
        cur = await self.db.execute(
            "UPDATE reminders SET next_due = ?, snooze_at = ?, retry_of = ? "
            "WHERE id = ? AND next_due = ? AND snooze_at IS ?",
            (next_due, snooze_at, retry_of, row.id, row.next_due, row.snooze_at),
        )
        await self.db.commit()
        return cur.rowcount == 1

    async def due_reminders(self, now: float, limit: int = 1000) -> list[ReminderRow]:
        """Reminders of active chats whose time or snooze has come, earliest first."""
        async with self.db.execute(
            "SELECT r.id, r.chat_id, r.local_time, r.days, r.next_due, r.snooze_at, r.retry_of "
            "FROM reminders r JOIN chats c ON c.chat_id = r.chat_id "
            "WHERE c.active = 1 AND c.reminders_paused = 0 "
            "AND (r.next_due <= ? OR r.snooze_at <= ?) "
            "ORDER BY MIN(r.next_due, COALESCE(r.snooze_at, r.next_due)), r.id LIMIT ?",
            (now, now, limit),
        ) as cur:
            return [ReminderRow(*r) for r in await cur.fetchall()]

    async def next_reminder_due(self) -> float | None:
        async with self.db.execute(
            "SELECT MIN(MIN(r.next_due, COALESCE(r.snooze_at, r.next_due))) "
            "FROM reminders r JOIN chats c ON c.chat_id = r.chat_id "
            "WHERE c.active = 1 AND c.reminders_paused = 0"
        ) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else float(row[0])
