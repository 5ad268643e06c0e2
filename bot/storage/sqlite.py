"""The embedded default store: one SQLite file (or ':memory:').

A chat's routine timer is simply its row's `wake_at` (indexed), written in the same statement
as the state it belongs to, so start-up re-arms every timer by reading that index. The schema
is the numbered SQL files in schema/, applied in order at open; a release only adds.

SQLite runs on the event loop's thread: a statement on a small indexed table takes
microseconds, far less than a hop to a worker thread and back (aiosqlite made about 25 such
hops per routine step, most of the bot's CPU). Only waiting may not happen on the loop:

- Reads have a connection of their own. In WAL mode a reader never waits for a writer.
- A write transaction tries to take the write lock without waiting. When another program holds
  it (an operator's shell, a backup), the wait for it (up to `busy_timeout`) moves to a worker
  thread, and the loop goes on serving other chats.
- Checkpoints (copying the WAL back into the database, with an fsync) run on that worker thread
  too, never inside a commit on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any

from bot.core.events import History, Record
from bot.core.reminder_types import Draft, Reminder
from bot.core.state import ChatState
from bot.core.times import format_days_key
from bot.storage.codec import (
    CHAT_STATE_COLUMNS,
    REMINDER_COLUMNS,
    ROUTINE_COLUMNS,
    chat_state,
    dump_draft,
    dump_holds,
    dump_pending,
    dump_prefs,
    dump_progress,
    dump_routine,
    dump_safety,
    load_draft,
    load_pending,
    reminder_from_row,
    routine_record,
)
from bot.storage.protocols import (
    AlreadySeen,
    ChatSettings,
    Due,
    Pending,
    RoutineRecord,
    StoreUnavailable,
)

log = logging.getLogger(__name__)


def migrations(folder_name: str = "schema") -> tuple[str, ...]:
    """The numbered SQL scripts of a schema folder, in order (schema/: SQLite's,
    schema_postgres/: PostgreSQL's)."""
    folder = resources.files("bot.storage").joinpath(folder_name)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    for number, file in enumerate(files, start=1):
        if not file.name.startswith(f"{number:04d}_"):
            raise RuntimeError(
                f"schema file {file.name} is out of sequence (expected {number:04d}_)"
            )
    return tuple(f.read_text(encoding="utf-8") for f in files)


# The schema, one SQL script per version (schema/0001_*.sql, ...).
MIGRATIONS = migrations()

# Whether this task is inside `SqliteStore.write()`: a write within it joins that transaction,
# and a read within it sees what the transaction wrote so far.
_IN_WRITE: ContextVar[bool] = ContextVar("stretchbot_in_write", default=False)

# Commits after which a checkpoint runs on the worker thread (a commit adds a few pages to the
# WAL; SQLite's own default is a checkpoint per 1,000 pages).
CHECKPOINT_EVERY = 200
# Each connection's page cache, in KiB.
CACHE_KIB = 1000
# A read that finds the database locked (rare in WAL mode) waits this long on the loop.
READ_BUSY_MS = 200

Row = tuple[Any, ...]


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class SqliteStore:
    """Chats, reminders and the safety log in one SQLite database."""

    def __init__(self, path: Path | str, *, busy_timeout: float = 5.0) -> None:
        self.path = str(path)
        # How long a write waits for a lock held elsewhere (a backup, an operator's shell).
        self.busy_timeout = busy_timeout
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._worker: ThreadPoolExecutor | None = None
        self._checkpoint: asyncio.Future[None] | None = None
        self._commits = 0
        # One write connection serves every chat: a transaction is one task's at a time.
        self._write_lock = asyncio.Lock()
        self.chats = SqliteChats(self)
        self.reminders = SqliteReminders(self)
        self.safety_log = SqliteSafetyLog(self)
        self.media = SqliteMedia(self)
        self.history = SqliteHistory(self)

    # --- connections ----------------------------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        """The connection for this task: the writer's inside `write()`, else the reader's."""
        connection = self._writer if _IN_WRITE.get() else self._reader
        if connection is None:
            raise RuntimeError("the store is not open")
        return connection

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        try:
            row: Row | None = self.db.execute(sql, params).fetchone()
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise StoreUnavailable(f"{self.path}: {exc}") from exc
            raise
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            rows: list[Row] = self.db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise StoreUnavailable(f"{self.path}: {exc}") from exc
            raise
        return rows

    def run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """A write statement: only inside `write()`."""
        if not _IN_WRITE.get():
            raise RuntimeError("a write outside SqliteStore.write()")
        return self.db.execute(sql, params)

    async def open(self) -> None:
        memory = self.path == ":memory:"
        if not memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stretchbot-sqlite")
        # Autocommit mode: a transaction is exactly what write() begins and ends. The writer
        # is used by the worker thread while it waits for a lock, never by two at once.
        self._writer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._writer.execute("PRAGMA busy_timeout = 0")
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=NORMAL")
        self._writer.execute("PRAGMA wal_autocheckpoint = 0")  # see _after_commit
        # ':memory:' is one database per connection, and nobody else can lock it.
        self._reader = self._writer if memory else sqlite3.connect(self.path, isolation_level=None)
        if not memory:
            self._reader.execute(f"PRAGMA busy_timeout = {READ_BUSY_MS}")
            # Two connections now share what aiosqlite's one had: half of SQLite's default
            # page cache (2 MB) each.
            for connection in (self._reader, self._writer):
                connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        await self._migrate()

    async def _migrate(self) -> None:
        async with self.write():
            self.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            row = self.one("SELECT MAX(version) FROM schema_version")
        current = int(row[0]) if row and row[0] is not None else 0
        if current > len(MIGRATIONS):
            raise RuntimeError(
                f"{self.path}: database schema {current} is newer than this version of the bot "
                f"knows ({len(MIGRATIONS)}); upgrade the bot"
            )
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            log.info("migrating database to schema %d", version)
            async with self.write():
                for statement in statements(script):
                    self.run(statement)
                self.run("INSERT INTO schema_version VALUES (?)", (version,))

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        """One transaction: every write inside it is stored together, or none is."""
        if _IN_WRITE.get():
            yield
            return
        async with self._write_lock:
            writer = self._writer
            if writer is None:
                raise RuntimeError("the store is not open")
            await self._begin(writer)
            token = _IN_WRITE.set(True)
            try:
                try:
                    yield
                except BaseException:
                    writer.execute("ROLLBACK")
                    raise
                try:
                    writer.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    writer.execute("ROLLBACK")
                    raise StoreUnavailable(f"{self.path}: {exc}") from exc
            finally:
                _IN_WRITE.reset(token)
        self._after_commit()

    async def _begin(self, writer: sqlite3.Connection) -> None:
        """Take the write lock: at once when it is free, else wait for it on the worker."""
        cursor = await self._at_once_or_waiting(writer, "BEGIN IMMEDIATE")
        del cursor

    async def statement(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """One write statement, atomic by itself (or part of the `write()` it is inside):
        without a BEGIN and a COMMIT around it."""
        if _IN_WRITE.get():
            return self.run(sql, params)
        async with self._write_lock:
            writer = self._writer
            if writer is None:
                raise RuntimeError("the store is not open")
            cursor = await self._at_once_or_waiting(writer, sql, params)
        self._after_commit()
        return cursor

    async def _at_once_or_waiting(
        self, writer: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
    ) -> sqlite3.Cursor:
        """Run a statement that needs the write lock: on the loop when the lock is free, on the
        worker (waiting up to `busy_timeout`) when another program holds it."""
        try:
            return writer.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise StoreUnavailable(f"{self.path}: {exc}") from exc
        assert self._worker is not None
        waiting = asyncio.get_running_loop().run_in_executor(
            self._worker, self._execute_waiting, writer, sql, params
        )
        try:
            return await asyncio.shield(waiting)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"{self.path}: {exc}") from exc
        except asyncio.CancelledError:
            # The worker still holds the writer: keep the lock until it lets go, and give back
            # a transaction nobody will finish.
            with contextlib.suppress(sqlite3.Error):
                await waiting
                if writer.in_transaction:
                    writer.execute("ROLLBACK")
            raise

    def _execute_waiting(
        self, writer: sqlite3.Connection, sql: str, params: Sequence[Any]
    ) -> sqlite3.Cursor:
        writer.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        try:
            return writer.execute(sql, params)
        finally:
            writer.execute("PRAGMA busy_timeout = 0")

    def _after_commit(self) -> None:
        """Every so many commits, a checkpoint on the worker (never two at once)."""
        self._commits += 1
        if self.path == ":memory:" or self._worker is None or self._commits % CHECKPOINT_EVERY:
            return
        if self._checkpoint is None or self._checkpoint.done():
            loop = asyncio.get_running_loop()
            self._checkpoint = loop.run_in_executor(self._worker, self._run_checkpoint)

    def _run_checkpoint(self) -> None:
        """Copy the WAL back into the database (PASSIVE: never waits for a reader or writer)."""
        try:
            connection = sqlite3.connect(self.path, isolation_level=None)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()
        except sqlite3.Error as exc:
            log.warning("a checkpoint of %s did not run: %s", self.path, exc)

    # The tables that hold something about a chat, all keyed by chat_id.
    _CHAT_TABLES = ("reminders", "safety_log", "routines", "rest_days", "seen_updates", "chats")

    async def forget_updates(self, before: float) -> int:
        cur = await self.statement("DELETE FROM seen_updates WHERE at < ?", (before,))
        return cur.rowcount

    @asynccontextmanager
    async def lease(self, chat_id: int) -> AsyncIterator[None]:
        """One process uses the file: the runner's own lock is the whole of a chat's lease."""
        yield

    def on_timers_moved(self, callback: Callable[[], None]) -> None:
        """Nobody else moves this database's timers."""

    def on_claims(self, callback: Callable[[int, int], None]) -> None:
        """No claims: one process takes what is due."""

    def timers_moved(self) -> None:
        """Nobody else to tell."""

    async def forget(self, chat_id: int) -> None:
        """Everything stored about a chat, gone in one transaction."""
        async with self.write():
            for table in self._CHAT_TABLES:
                self.run(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))

    async def forget_inactive(self, before: float) -> int:
        rows = self.all("SELECT chat_id FROM chats WHERE active = 0 AND updated_at < ?", (before,))
        for (chat_id,) in rows:
            await self.forget(int(chat_id))
        return len(rows)

    async def ping(self) -> None:
        """`SELECT 1` on the reader: RuntimeError when closed, StoreUnavailable when locked."""
        self.one("SELECT 1")

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.wait([self._checkpoint])
            self._checkpoint = None
        for connection in {id(c): c for c in (self._reader, self._writer) if c}.values():
            connection.close()
        self._reader = self._writer = None
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None


def statements(script: str) -> list[str]:
    """The statements of a schema file (no semicolons inside them; comments dropped)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class SqliteChats:
    """One row per chat: consent, language, routine progress, safety record, reminder settings."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def load(self, chat_id: int) -> ChatState:
        row = self._store.one(
            f"SELECT {CHAT_STATE_COLUMNS} FROM chats WHERE chat_id = ?", (chat_id,)
        )
        return chat_state(row)

    async def save(self, chat_id: int, state: ChatState, now: float) -> None:
        await self._store.statement(
            "INSERT INTO chats (chat_id, locale, consent_version, consent_at, declined_at, "
            "routine, wake_at, safety, reminders_paused, last_press, prefs, progress, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET locale = excluded.locale, "
            "consent_version = excluded.consent_version, consent_at = excluded.consent_at, "
            "declined_at = excluded.declined_at, routine = excluded.routine, "
            "wake_at = excluded.wake_at, safety = excluded.safety, "
            "reminders_paused = excluded.reminders_paused, last_press = excluded.last_press, "
            "prefs = excluded.prefs, progress = excluded.progress, "
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
                dump_prefs(state.prefs),
                dump_progress(state.progress),
                now,
            ),
        )

    async def set_active(self, chat_id: int, active: bool, now: float) -> None:
        await self._store.statement(
            "INSERT INTO chats (chat_id, active, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET active = excluded.active, "
            "updated_at = excluded.updated_at",
            (chat_id, int(active), now),
        )

    async def settings(self, chat_id: int) -> ChatSettings:
        row = self._store.one(
            "SELECT locale, timezone, draft, reminders_paused, wake_at IS NOT NULL, active, "
            "json_extract(prefs, '$.language') FROM chats WHERE chat_id = ?",
            (chat_id,),
        )
        if row is None:
            return ChatSettings()
        return ChatSettings(
            row[0], row[1], load_draft(row[2]), bool(row[3]), bool(row[4]), bool(row[5]), row[6]
        )

    async def save_settings(
        self,
        chat_id: int,
        timezone: str | None,
        draft: Draft,
        now: float,
        locale: str | None = None,
    ) -> None:
        await self._store.statement(
            "INSERT INTO chats (chat_id, timezone, draft, locale, updated_at) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET timezone = excluded.timezone, "
            "draft = excluded.draft, locale = COALESCE(excluded.locale, chats.locale), "
            "updated_at = excluded.updated_at",
            (chat_id, timezone, dump_draft(draft), locale, now),
        )

    async def pending(self, chat_id: int) -> tuple[tuple[Pending, ...], float | None]:
        row = self._store.one("SELECT pending, pending_at FROM chats WHERE chat_id = ?", (chat_id,))
        return ((), None) if row is None else (load_pending(row[0]), row[1])

    async def set_pending(
        self, chat_id: int, effects: tuple[Pending, ...], at: float | None
    ) -> None:
        await self._store.statement(
            "INSERT INTO chats (chat_id, pending, pending_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET pending = excluded.pending, "
            "pending_at = excluded.pending_at",
            (chat_id, dump_pending(effects), at if effects else None, at or 0.0),
        )

    async def wakes_due(self, now: float, limit: int = 500) -> list[Due]:
        """Chats whose routine timer is due, or whose effects wait to be shown."""
        rows = self._store.all(
            "SELECT chat_id, wake_at, pending_at FROM chats "
            "WHERE wake_at <= ? OR pending_at <= ? "
            "ORDER BY MIN(COALESCE(wake_at, pending_at), COALESCE(pending_at, wake_at)) LIMIT ?",
            (now, now, limit),
        )
        return [
            Due(
                int(r[0]),
                float(r[1]) if r[1] is not None and r[1] <= now else None,
                r[2] is not None and r[2] <= now,
            )
            for r in rows
        ]

    async def see_update(self, chat_id: int, update_id: int, at: float) -> None:
        cur = await self._store.statement(
            "INSERT OR IGNORE INTO seen_updates (chat_id, update_id, at) VALUES (?, ?, ?)",
            (chat_id, update_id, at),
        )
        if cur.rowcount == 0:
            raise AlreadySeen(f"update {update_id} of chat {chat_id}")

    async def seen(self, chat_id: int, update_id: int) -> bool:
        row = self._store.one(
            "SELECT 1 FROM seen_updates WHERE chat_id = ? AND update_id = ?", (chat_id, update_id)
        )
        return row is not None

    async def next_wake(self, now: float | None = None) -> float | None:
        row = self._store.one(
            "SELECT MIN(MIN(COALESCE(wake_at, pending_at), COALESCE(pending_at, wake_at))) "
            "FROM chats WHERE wake_at IS NOT NULL OR pending_at IS NOT NULL"
        )
        return None if row is None or row[0] is None else float(row[0])


class SqliteReminders:
    """Daily reminders: a local time and weekdays, the next due time in UTC, snooze and retry."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def of_chat(self, chat_id: int) -> tuple[Reminder, ...]:
        rows = self._store.all(
            f"SELECT {REMINDER_COLUMNS} FROM reminders WHERE chat_id = ? ORDER BY local_time, id",
            (chat_id,),
        )
        return tuple(reminder_from_row(r) for r in rows)

    async def add(self, chat_id: int, reminder: Reminder, now: float) -> int:
        async with self._store.write():
            self._store.run(
                "INSERT OR IGNORE INTO chats (chat_id, updated_at) VALUES (?, ?)", (chat_id, now)
            )
            cur = self._store.run(
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
        await self._store.statement(
            "DELETE FROM reminders WHERE chat_id = ? AND id = ?", (chat_id, reminder_id)
        )

    async def update(self, before: Reminder, after: Reminder) -> bool:
        """Move a reminder on only if nobody else did since `before` was read (a claim)."""
        cur = await self._store.statement(
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
        rows = self._store.all(
            "SELECT r.id, r.local_time, r.days, r.next_due, r.snooze_at, r.retry_at, "
            "r.retry_of, r.chat_id FROM reminders r JOIN chats c ON c.chat_id = r.chat_id "
            "WHERE c.active = 1 AND c.reminders_paused = 0 "
            "AND (r.next_due <= ? OR r.snooze_at <= ? OR r.retry_at <= ?) "
            "ORDER BY MIN(r.next_due, COALESCE(r.snooze_at, r.next_due), "
            "COALESCE(r.retry_at, r.next_due)), r.id LIMIT ?",
            (now, now, now, limit),
        )
        return [(int(r[7]), reminder_from_row(r)) for r in rows]

    async def next_due_at(self) -> float | None:
        row = self._store.one(
            "SELECT MIN(MIN(r.next_due, COALESCE(r.snooze_at, r.next_due), "
            "COALESCE(r.retry_at, r.next_due))) "
            "FROM reminders r JOIN chats c ON c.chat_id = r.chat_id "
            "WHERE c.active = 1 AND c.reminders_paused = 0"
        )
        return None if row is None or row[0] is None else float(row[0])


class SqliteSafetyLog:
    """Every safety event, appended, kept for good."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def record(self, chat_id: int, at: float, record: Record) -> None:
        await self._store.statement(
            "INSERT INTO safety_log (chat_id, at, kind, answer, exercise, side) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (chat_id, at, record.kind, record.answer, record.exercise, record.side),
        )

    async def of_chat(self, chat_id: int) -> list[tuple[float, Record]]:
        rows = self._store.all(
            "SELECT at, kind, answer, exercise, side FROM safety_log WHERE chat_id = ? "
            "ORDER BY at, rowid",
            (chat_id,),
        )
        return [(float(r[0]), Record(r[1], r[2] or "", r[3], r[4])) for r in rows]


class SqliteMedia:
    """Pictures uploaded to Telegram: their file_id by key (see schema/0008_media.sql)."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def file_id(self, key: str) -> str | None:
        row = self._store.one("SELECT file_id FROM media WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def remember(self, key: str, file_id: str, now: float) -> None:
        await self._store.statement(
            "INSERT INTO media (key, file_id, stored_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET file_id = excluded.file_id, "
            "stored_at = excluded.stored_at",
            (key, file_id, now),
        )

    async def forget(self, key: str) -> None:
        await self._store.statement("DELETE FROM media WHERE key = ?", (key,))


class SqliteHistory:
    """Every routine a user began (table `routines`) and their rest days."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def record(self, chat_id: int, at: float, history: History) -> None:
        key = (chat_id, history.begun_at)
        if history.kind == "started":
            await self._store.statement(
                "INSERT OR IGNORE INTO routines (chat_id, begun_at) VALUES (?, ?)", key
            )
        elif history.kind in ("pain_before", "pain_after"):
            await self._store.statement(
                f"UPDATE routines SET {history.kind} = ? WHERE chat_id = ? AND begun_at = ?",
                (history.pain, *key),
            )
        elif history.kind == "ended":
            holds = dump_holds(history)
            await self._store.statement(
                "UPDATE routines SET ended_at = ?, outcome = ?, holds = ? "
                "WHERE chat_id = ? AND begun_at = ?",
                (at, history.outcome, holds, *key),
            )

    async def routines(self, chat_id: int, since: float = 0.0) -> list[RoutineRecord]:
        rows = self._store.all(
            f"SELECT {ROUTINE_COLUMNS} FROM routines "
            "WHERE chat_id = ? AND begun_at >= ? ORDER BY begun_at",
            (chat_id, since),
        )
        return [routine_record(r) for r in rows]

    async def add_rest_day(self, chat_id: int, day: str) -> None:
        await self._store.statement(
            "INSERT OR IGNORE INTO rest_days (chat_id, day) VALUES (?, ?)", (chat_id, day)
        )

    async def rest_days(self, chat_id: int) -> list[str]:
        rows = self._store.all(
            "SELECT day FROM rest_days WHERE chat_id = ? ORDER BY day", (chat_id,)
        )
        return [str(r[0]) for r in rows]
