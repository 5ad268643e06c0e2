"""The embedded default store: one SQLite file (or ':memory:') through aiosqlite.

A chat's routine timer is simply its row's `wake_at` (indexed), written in the same statement
as the state it belongs to, so start-up re-arms every timer by reading that index. The schema
is the numbered SQL files in schema/, applied in order at open; a release only adds.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.events import Record
from bot.core.reminder_types import Draft, Reminder
from bot.core.state import ChatState
from bot.core.times import format_days_key, parse_days_key
from bot.storage.codec import (
    dump_draft,
    dump_pending,
    dump_routine,
    dump_safety,
    load_draft,
    load_pending,
    load_routine,
    load_safety,
)
from bot.storage.protocols import ChatSettings, Due, Pending, StoreUnavailable

log = logging.getLogger(__name__)


def _migrations() -> tuple[str, ...]:
    folder = resources.files("bot.storage").joinpath("schema")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    for number, file in enumerate(files, start=1):
        if not file.name.startswith(f"{number:04d}_"):
            raise RuntimeError(
                f"schema file {file.name} is out of sequence (expected {number:04d}_)"
            )
    return tuple(f.read_text(encoding="utf-8") for f in files)


# The schema, one SQL script per version (schema/0001_*.sql, ...).
MIGRATIONS = _migrations()


# Whether this task is inside `SqliteStore.write()`: a write within it joins that transaction.
_IN_WRITE: ContextVar[bool] = ContextVar("stretchbot_in_write", default=False)


class SqliteStore:
    """Chats, reminders and the safety log in one SQLite database."""

    def __init__(self, path: Path | str, *, busy_timeout: float = 5.0) -> None:
        self.path = str(path)
        # How long a write waits for a lock held elsewhere (a backup, an operator's shell).
        self.busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        # One connection serves every chat: a transaction is one task's at a time.
        self._write_lock = asyncio.Lock()
        self.chats = SqliteChats(self)
        self.reminders = SqliteReminders(self)
        self.safety_log = SqliteSafetyLog(self)

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: a transaction is exactly what write() begins and ends.
        self._db = await aiosqlite.connect(
            self.path, isolation_level=None, timeout=self.busy_timeout
        )
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
            async with self.write():
                for statement in _statements(script):
                    await self.db.execute(statement)
                await self.db.execute("INSERT INTO schema_version VALUES (?)", (version,))

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        """One transaction: every write inside it is stored together, or none is."""
        if _IN_WRITE.get():
            yield
            return
        async with self._write_lock:
            token = _IN_WRITE.set(True)
            try:
                try:
                    await self.db.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    raise StoreUnavailable(f"{self.path}: {exc}") from exc
                try:
                    yield
                except BaseException:
                    await self.db.execute("ROLLBACK")
                    raise
                try:
                    await self.db.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    await self.db.execute("ROLLBACK")
                    raise StoreUnavailable(f"{self.path}: {exc}") from exc
            finally:
                _IN_WRITE.reset(token)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None


def _statements(script: str) -> list[str]:
    """The statements of a schema file (no semicolons inside them; comments dropped)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class SqliteChats:
    """One row per chat: consent, language, routine progress, safety record, reminder settings."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def load(self, chat_id: int) -> ChatState:
        async with self._store.db.execute(
            "SELECT locale, consent_version, consent_at, declined_at, routine, safety, "
            "reminders_paused, timezone, last_press FROM chats WHERE chat_id = ?",
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
            last_press=row[8],
        )

    async def save(self, chat_id: int, state: ChatState, now: float) -> None:
        async with self._store.write():
            await self._store.db.execute(
                "INSERT INTO chats (chat_id, locale, consent_version, consent_at, declined_at, "
                "routine, wake_at, safety, reminders_paused, last_press, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET locale = excluded.locale, "
                "consent_version = excluded.consent_version, consent_at = excluded.consent_at, "
                "declined_at = excluded.declined_at, routine = excluded.routine, "
                "wake_at = excluded.wake_at, safety = excluded.safety, "
                "reminders_paused = excluded.reminders_paused, last_press = excluded.last_press, "
                "updated_at = excluded.updated_at",
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
                    state.last_press,
                    now,
                ),
            )

    async def set_active(self, chat_id: int, active: bool, now: float) -> None:
        async with self._store.write():
            await self._store.db.execute(
                "INSERT INTO chats (chat_id, active, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET active = excluded.active, "
                "updated_at = excluded.updated_at",
                (chat_id, int(active), now),
            )

    async def is_active(self, chat_id: int) -> bool:
        async with self._store.db.execute(
            "SELECT active FROM chats WHERE chat_id = ?", (chat_id,)
        ) as cur:
            row = await cur.fetchone()
        return row is None or bool(row[0])

    async def settings(self, chat_id: int) -> ChatSettings:
        async with self._store.db.execute(
            "SELECT locale, timezone, draft, reminders_paused, wake_at IS NOT NULL "
            "FROM chats WHERE chat_id = ?",
            (chat_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return ChatSettings()
        return ChatSettings(row[0], row[1], load_draft(row[2]), bool(row[3]), bool(row[4]))

    async def save_settings(
        self, chat_id: int, timezone: str | None, draft: Draft, now: float
    ) -> None:
        async with self._store.write():
            await self._store.db.execute(
                "INSERT INTO chats (chat_id, timezone, draft, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET timezone = excluded.timezone, "
                "draft = excluded.draft, updated_at = excluded.updated_at",
                (chat_id, timezone, dump_draft(draft), now),
            )

    async def pending(self, chat_id: int) -> tuple[tuple[Pending, ...], float | None]:
        async with self._store.db.execute(
            "SELECT pending, pending_at FROM chats WHERE chat_id = ?", (chat_id,)
        ) as cur:
            row = await cur.fetchone()
        return ((), None) if row is None else (load_pending(row[0]), row[1])

    async def set_pending(
        self, chat_id: int, effects: tuple[Pending, ...], at: float | None
    ) -> None:
        async with self._store.write():
            await self._store.db.execute(
                "INSERT INTO chats (chat_id, pending, pending_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET pending = excluded.pending, "
                "pending_at = excluded.pending_at",
                (chat_id, dump_pending(effects), at if effects else None, at or 0.0),
            )

    async def wakes_due(self, now: float, limit: int = 500) -> list[Due]:
        """Chats whose routine timer is due, or whose effects wait to be shown."""
        async with self._store.db.execute(
            "SELECT chat_id, wake_at, pending_at FROM chats "
            "WHERE wake_at <= ? OR pending_at <= ? "
            "ORDER BY MIN(COALESCE(wake_at, pending_at), COALESCE(pending_at, wake_at)) LIMIT ?",
            (now, now, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [
            Due(
                int(r[0]),
                float(r[1]) if r[1] is not None and r[1] <= now else None,
                r[2] is not None and r[2] <= now,
            )
            for r in rows
        ]

    async def next_wake(self) -> float | None:
        async with self._store.db.execute(
            "SELECT MIN(MIN(COALESCE(wake_at, pending_at), COALESCE(pending_at, wake_at))) "
            "FROM chats WHERE wake_at IS NOT NULL OR pending_at IS NOT NULL"
        ) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else float(row[0])


def _reminder(row: Sequence[Any]) -> Reminder:
    """A reminders row (id, local_time, days, next_due, snooze_at, retry_at, retry_of)."""
    hh, mm = str(row[1]).split(":")
    return Reminder(
        id=int(row[0]),
        local_time=time(int(hh), int(mm)),
        days=parse_days_key(str(row[2])),
        next_due=float(row[3]),
        snooze_at=None if row[4] is None else float(row[4]),
        retry_at=None if row[5] is None else float(row[5]),
        retry_of=None if row[6] is None else float(row[6]),
    )


class SqliteReminders:
    """Daily reminders: a local time and weekdays, the next due time in UTC, snooze and retry."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def of_chat(self, chat_id: int) -> tuple[Reminder, ...]:
        async with self._store.db.execute(
            "SELECT id, local_time, days, next_due, snooze_at, retry_at, retry_of "
            "FROM reminders WHERE chat_id = ? ORDER BY local_time, id",
            (chat_id,),
        ) as cur:
            return tuple(_reminder(r) for r in await cur.fetchall())

    async def add(self, chat_id: int, reminder: Reminder, now: float) -> int:
        async with self._store.write():
            db = self._store.db
            await db.execute(
                "INSERT OR IGNORE INTO chats (chat_id, updated_at) VALUES (?, ?)", (chat_id, now)
            )
            cur = await db.execute(
                "INSERT INTO reminders (chat_id, local_time, days, next_due, snooze_at, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    chat_id,
                    reminder.hhmm,
                    format_days_key(reminder.days),
                    reminder.next_due,
                    reminder.snooze_at,
                    now,
                ),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    async def delete(self, chat_id: int, reminder_id: int) -> None:
        async with self._store.write():
            await self._store.db.execute(
                "DELETE FROM reminders WHERE chat_id = ? AND id = ?", (chat_id, reminder_id)
            )

    async def update(self, before: Reminder, after: Reminder) -> bool:
        """Move a reminder on only if nobody else did since `before` was read (a claim)."""
        async with self._store.write():
            cur = await self._store.db.execute(
                "UPDATE reminders SET next_due = ?, snooze_at = ?, retry_at = ?, retry_of = ? "
                "WHERE id = ? AND next_due = ? AND snooze_at IS ? AND retry_at IS ?",
                (
                    after.next_due,
                    after.snooze_at,
                    after.retry_at,
                    after.retry_of,
                    before.id,
                    before.next_due,
                    before.snooze_at,
                    before.retry_at,
                ),
            )
            return cur.rowcount == 1

    async def due(self, now: float, limit: int = 1000) -> list[tuple[int, Reminder]]:
        """Reminders of active, unpaused chats whose time, snooze or retry has come."""
        async with self._store.db.execute(
            "SELECT r.id, r.local_time, r.days, r.next_due, r.snooze_at, r.retry_at, "
            "r.retry_of, r.chat_id FROM reminders r JOIN chats c ON c.chat_id = r.chat_id "
            "WHERE c.active = 1 AND c.reminders_paused = 0 "
            "AND (r.next_due <= ? OR r.snooze_at <= ? OR r.retry_at <= ?) "
            "ORDER BY MIN(r.next_due, COALESCE(r.snooze_at, r.next_due), "
            "COALESCE(r.retry_at, r.next_due)), r.id LIMIT ?",
            (now, now, now, limit),
        ) as cur:
            return [(int(r[7]), _reminder(r)) for r in await cur.fetchall()]

    async def next_due_at(self) -> float | None:
        async with self._store.db.execute(
            "SELECT MIN(MIN(r.next_due, COALESCE(r.snooze_at, r.next_due), "
            "COALESCE(r.retry_at, r.next_due))) "
            "FROM reminders r JOIN chats c ON c.chat_id = r.chat_id "
            "WHERE c.active = 1 AND c.reminders_paused = 0"
        ) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else float(row[0])


class SqliteSafetyLog:
    """Every safety event, appended, kept for good."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def record(self, chat_id: int, at: float, record: Record) -> None:
        async with self._store.write():
            await self._store.db.execute(
                "INSERT INTO safety_log (chat_id, at, kind, answer, exercise, side) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, at, record.kind, record.answer, record.exercise, record.side),
            )
