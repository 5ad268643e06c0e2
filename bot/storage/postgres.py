"""PostgreSQL, for several replicas of the bot on one database (`STRETCHBOT_DATABASE=
postgresql://...`). The same `Store` as SQLite's, with what sharing the work needs:

- **A lease per chat.** A step of a chat (load, save, show) runs while this process holds the
  chat's lease: its row's `lease_owner` and `lease_until` (on the database's clock, so the
  replicas' clocks need not agree). No transaction stays open across Telegram calls: the lease
  is a row, taken and given back by single statements. Every lease taken gets a new
  `lease_token`; a write to the chat row under an older token changes nothing and raises
  LeaseLost, so a replica that stalled past its lease never overwrites newer state.
  One task renews every lease this process holds (including chats it claimed) every third of
  the lease time; a replica that dies loses its leases when they run out.
- **Claims.** Due chats and reminders are claimed with `FOR UPDATE SKIP LOCKED`: a claim takes
  the chat's lease (or the reminder's `claim_owner`, `claim_until`), so exactly one replica runs
  each timer, and a dead replica's work is taken over when its claims run out.
- **Wake-ups.** A moved timer is announced with NOTIFY; every replica LISTENs and looks again
  (the periodic look stays, as the fallback).

Driver: psycopg 3 (async, with psycopg_pool): asyncio-native, LISTEN/NOTIFY through
`notifies()`, server-side parameters, prepared statements after a few runs, a maintained pool,
and a binary wheel with libpq inside. The schema is versioned SQL in schema_postgres/, applied
under an advisory lock by `stretchbot migrate` (and at start-up), so two replicas starting at
once never migrate twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

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
    LeaseLost,
    Pending,
    RoutineRecord,
    StoreUnavailable,
)
from bot.storage.sqlite import migrations, statements

log = logging.getLogger(__name__)

MIGRATIONS = migrations("schema_postgres")
# pg_advisory_lock's key for migrations (any constant; "stretchbot" in ASCII, truncated).
MIGRATION_LOCK = 0x73747265746368
CHANNEL = "stretchbot_timers"
# How long a lease lasts unless renewed (real seconds): a dead replica's chats are taken over
# this long after it died, at the latest.
LEASE_SECONDS = 15.0

# No statement of the bot waits for ever: a lock held too long (another program's transaction,
# a stuck session) is an error after 10 s (StoreUnavailable: the step is tried again), a
# statement is cancelled after 30 s, and a session idle inside a transaction for a minute is
# ended by the server, so its locks go.
SESSION_OPTIONS = (
    "-c lock_timeout=10000 -c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000"
)

# At shutdown, the store's own tasks get this long to end after being cancelled.
STOP_TASKS_WITHIN = 3.0

# Reminders, and chats with a timer due, claimed at once by one replica.
CLAIM_BATCH = 200
CHAT_BATCH = 64

# The database's clock, in epoch seconds: leases are measured on it.
DB_NOW = "extract(epoch from clock_timestamp())"

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Held:
    """A lease this task holds (a task started inside it inherits the variable, not the
    lease: `task` tells them apart)."""

    store: int
    chat_id: int
    token: int
    task: asyncio.Task[Any] | None


def _held_any(store: PostgresStore) -> _Held | None:
    """The lease this task holds on one of `store`'s chats, if any."""
    held = _LEASE.get()
    if held is None or held.store != id(store) or held.task is not asyncio.current_task():
        return None
    return held


def _held(store: PostgresStore, chat_id: int) -> _Held | None:
    held = _LEASE.get()
    if held is None or held.store != id(store) or held.chat_id != chat_id:
        return None
    return held if held.task is asyncio.current_task() else None


# The transaction of this task (inside `write()`), and the lease it holds (chat, token).
_TX: ContextVar[psycopg.AsyncConnection[Row] | None] = ContextVar("stretchbot_pg_tx", default=None)
_LEASE: ContextVar[_Held | None] = ContextVar("stretchbot_pg_lease", default=None)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def owner_name() -> str:
    """This process among the replicas: host, pid and a random part (a pid is reused)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class PostgresStore:
    def __init__(
        self,
        url: str,
        *,
        owner: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        pool_size: int = 10,
        migrate: bool = True,
    ) -> None:
        self.url = url
        self.owner = owner or owner_name()
        self.lease_seconds = lease_seconds
        self.pool_size = pool_size
        self.migrate_at_open = migrate
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []
        self._announce: asyncio.Task[None] | None = None
        self._announce_again = False
        self._closing = False
        # Chats whose lease this process holds or claimed (renewed until given back).
        self._held: set[int] = set()
        self.taken_over = 0  # claims of chats whose lease another replica had let run out
        self.claimed = 0  # chats with a timer due, and reminders, claimed by this process
        self._on_claims: list[Callable[[int, int], None]] = []
        self.chats = PostgresChats(self)
        self.reminders = PostgresReminders(self)
        self.safety_log = PostgresSafetyLog(self)
        self.media = PostgresMedia(self)
        self.history = PostgresHistory(self)

    # --- connections ----------------------------------------------------------------------

    @property
    def where(self) -> str:
        """The database, without a password, for messages."""
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.url)
        except psycopg.ProgrammingError:
            return "postgresql://?"
        host, port, name = info.get("host", ""), info.get("port", 5432), info.get("dbname", "")
        return f"postgresql://{host}:{port}/{name}"

    async def open(self) -> None:
        # One connection first: a server that is not there, or refuses us, is one clear error
        # at once (the pool would try again for its whole timeout, warning each time).
        try:
            first = await psycopg.AsyncConnection.connect(self.url, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"{self.where}: cannot connect ({_first_line(exc)})") from None
        await first.close()
        self._pool = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            kwargs={"autocommit": True, "options": SESSION_OPTIONS},
            open=False,
            timeout=10.0,
            name="stretchbot",
        )
        try:
            await self._pool.open(wait=True, timeout=10.0)
        except PoolTimeout as exc:
            await self._pool.close()
            self._pool = None
            raise StoreUnavailable(f"{self.where}: cannot connect ({exc})") from exc
        if self.migrate_at_open:
            await self.migrate()
        else:
            await self._check_schema()
        self._renewer = asyncio.create_task(self._renew(), name="stretchbot-leases")

    async def close(self) -> None:
        """Give back every lease and claim of this process, stop listening, close the pool."""
        await self._stop_tasks()
        if self._pool is not None:
            with contextlib.suppress(StoreUnavailable, psycopg.Error):
                await self.release_all()
            await self._pool.close()
            self._pool = None

    async def abandon(self) -> None:
        """Stop as a process that dies does (tests, benchmarks): no lease given back, the
        connections dropped."""
        await self._stop_tasks()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _stop_tasks(self) -> None:
        """Stop the renewals, the listening and a notice on its way (each gets a few seconds to
        end; one that does not is left behind rather than holding the shutdown up)."""
        self._closing = True
        tasks = [t for t in (self._renewer, self._listener, self._announce) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_TASKS_WITHIN)
        self._renewer = self._listener = self._announce = None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        connection = _TX.get()
        if connection is not None:
            yield connection
            return
        if self._pool is None:
            raise RuntimeError("the store is not open")
        try:
            async with self._pool.connection() as connection:
                yield connection
        except PoolTimeout as exc:
            raise StoreUnavailable(f"{self.where}: no connection ({exc})") from exc

    async def _execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """A statement; return how many rows it changed."""
        try:
            async with self._connection() as connection:
                cur = await connection.execute(sql, params)
                return cur.rowcount
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"{self.where}: {exc}") from exc

    async def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
        try:
            async with self._connection() as connection:
                cur = await connection.execute(sql, params)
                return await cur.fetchone()
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"{self.where}: {exc}") from exc

    async def all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        try:
            async with self._connection() as connection:
                cur = await connection.execute(sql, params)
                return await cur.fetchall()
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"{self.where}: {exc}") from exc

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        """One transaction: every write inside it is stored together, or none is."""
        if _TX.get() is not None:
            yield
            return
        if self._pool is None:
            raise RuntimeError("the store is not open")
        held = _held_any(self)
        try:
            async with self._pool.connection() as connection, connection.transaction():
                token = _TX.set(connection)
                try:
                    if held is not None:
                        await self._fence(connection, held)
                    yield
                finally:
                    _TX.reset(token)
        except PoolTimeout as exc:
            raise StoreUnavailable(f"{self.where}: no connection ({exc})") from exc
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"{self.where}: {exc}") from exc

    async def _fence(self, connection: psycopg.AsyncConnection[Row], held: _Held) -> None:
        """The first statement of a step's transaction under a lease: the lease must still be
        this one's, and its row stays locked until the commit, so nobody takes it meanwhile.
        Every write of the step (safety log, history, reminders) is then fenced, not only the
        chat row's."""
        cur = await connection.execute(
            "SELECT 1 FROM chats WHERE chat_id = %s AND lease_owner = %s AND lease_token = %s "
            "FOR UPDATE",
            (held.chat_id, self.owner, held.token),
        )
        if await cur.fetchone() is None:
            raise LeaseLost(f"chat {held.chat_id}: another replica holds it now")

    async def ping(self) -> None:
        await self.one("SELECT 1")

    # --- schema ---------------------------------------------------------------------------

    async def migrate(self) -> int:
        """Apply the migrations this database lacks, under an advisory lock (two replicas
        starting at once: the second waits, then finds nothing to do). Return the version."""
        if self._pool is None:
            raise RuntimeError("the store is not open")
        async with self._pool.connection() as connection:
            await connection.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                await connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                )
                current = await self._version(connection)
                if current > len(MIGRATIONS):
                    # A newer release migrated already and this one still runs during the
                    # deploy: releases only add columns and tables, so it reads on.
                    log.warning(self._too_new(current))
                    return current
                for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                    log.info("migrating %s to schema %d", self.where, version)
                    async with connection.transaction():
                        for statement in statements(script):
                            await connection.execute(statement.encode())  # no parameters
                        await connection.execute(
                            "INSERT INTO schema_version VALUES (%s)", (version,)
                        )
                return len(MIGRATIONS)
            finally:
                await connection.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))

    async def _check_schema(self) -> None:
        """Without migrating (`stretchbot serve` with migrations left to `stretchbot migrate`):
        the schema must be at least this release's. A newer one is fine: releases only add."""
        assert self._pool is not None
        async with self._pool.connection() as connection:
            exists = await (
                await connection.execute("SELECT to_regclass('schema_version') IS NOT NULL")
            ).fetchone()
            current = await self._version(connection) if exists and exists[0] else 0
        if current < len(MIGRATIONS):
            raise StoreUnavailable(
                f"{self.where}: database schema {current} is older than this release's "
                f"({len(MIGRATIONS)}); run `stretchbot migrate` first"
            )

    @staticmethod
    async def _version(connection: psycopg.AsyncConnection[Row]) -> int:
        row = await (await connection.execute("SELECT MAX(version) FROM schema_version")).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _too_new(self, current: int) -> str:
        return (
            f"{self.where}: database schema {current} is newer than this version of the bot "
            f"knows ({len(MIGRATIONS)}); this replica carries on (releases only add), "
            "but upgrade it"
        )

    # --- leases -----------------------------------------------------------------------------

    @asynccontextmanager
    async def lease(self, chat_id: int) -> AsyncIterator[None]:
        """Hold the chat against the other replicas (see the module's notes)."""
        if _held(self, chat_id) is not None:  # already this task's
            yield
            return
        try:
            lease = await self._take(chat_id)
        except BaseException:
            self._held.discard(chat_id)
            raise
        self._held.add(chat_id)
        token = _LEASE.set(_Held(id(self), chat_id, lease, asyncio.current_task()))
        try:
            yield
        finally:
            _LEASE.reset(token)
            self._held.discard(chat_id)
            with contextlib.suppress(StoreUnavailable):
                row = await self.one(
                    "UPDATE chats SET lease_owner = NULL, lease_until = NULL "
                    "WHERE chat_id = %s AND lease_owner = %s AND lease_token = %s "
                    "RETURNING LEAST(wake_at, pending_at)",
                    (chat_id, self.owner, lease),
                )
                if row is not None and row[0] is not None:
                    # Loops that looked while the chat was held wait for the lease's end:
                    # its timer may be sooner (a get-ready count set by a tap).
                    self._tell_listeners()
                    self.timers_moved()

    async def _take(self, chat_id: int) -> int:
        """Take the chat's lease: at once when free, run out or ours (a chat this process
        claimed), else wait for it (a little longer each time)."""
        loop = asyncio.get_running_loop()
        # Long enough for a dead holder's lease to run out; then StoreUnavailable.
        deadline = loop.time() + 2 * self.lease_seconds + 5
        pause = 0.005
        while True:
            row = await self.one(
                "INSERT INTO chats (chat_id, updated_at, lease_owner, lease_until, lease_token) "
                f"VALUES (%(chat)s, {DB_NOW}, %(me)s, {DB_NOW} + %(seconds)s, 1) "
                "ON CONFLICT (chat_id) DO UPDATE SET lease_owner = excluded.lease_owner, "
                "lease_until = excluded.lease_until, lease_token = chats.lease_token + 1 "
                "WHERE chats.lease_owner IS NULL OR chats.lease_owner = excluded.lease_owner "
                f"OR chats.lease_until < {DB_NOW} "
                "RETURNING lease_token",
                {"chat": chat_id, "me": self.owner, "seconds": self.lease_seconds},
            )
            if row is not None:
                return int(row[0])
            if loop.time() > deadline:
                raise StoreUnavailable(f"chat {chat_id} is held by another replica")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)

    def fence(self, chat_id: int) -> dict[str, Any]:
        """The parameters of a chat-row write's lease condition (see `_FENCE`)."""
        held = _held(self, chat_id)
        return {"fence_owner": self.owner, "fence_token": held.token if held else None}

    async def _renew(self) -> None:
        """Every third of the lease time, renew the leases of the chats this process holds or
        claimed. (A reminder's claim is not renewed: it only guards the moment between the claim
        and the conditional update that moves the reminder on, which alone decides who sends.)

        The renewals have a connection of their own: in a burst the pool's connections are all
        busy, and a renewal waiting for one could let leases run out mid-step."""
        connection: psycopg.AsyncConnection[Row] | None = None
        try:
            while not self._closing:
                await asyncio.sleep(self.lease_seconds / 3)
                if not self._held:
                    continue
                try:
                    if connection is None or connection.closed:
                        connection = await psycopg.AsyncConnection.connect(
                            self.url, autocommit=True, connect_timeout=5, options=SESSION_OPTIONS
                        )
                    await connection.execute(
                        f"UPDATE chats SET lease_until = {DB_NOW} + %(seconds)s "
                        "WHERE lease_owner = %(me)s AND chat_id = ANY(%(chats)s)",
                        {
                            "me": self.owner,
                            "seconds": self.lease_seconds,
                            "chats": list(self._held),
                        },
                    )
                except Exception as exc:
                    log.warning("could not renew this replica's leases: %s", exc)
                    if connection is not None:
                        await connection.close()
                    connection = None
        finally:
            if connection is not None:
                await connection.close()

    async def release_all(self) -> None:
        """Give back every lease and claim of this process (at shutdown), so another replica
        takes its chats at once instead of when the leases run out."""
        await self._execute(
            "UPDATE chats SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = %s",
            (self.owner,),
        )
        await self._execute(
            "UPDATE reminders SET claim_owner = NULL, claim_until = NULL WHERE claim_owner = %s",
            (self.owner,),
        )

    # --- telling the other replicas -----------------------------------------------------

    def on_timers_moved(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="stretchbot-listen")

    async def _listen(self) -> None:
        """LISTEN on a connection of its own; connect again after a failure."""
        while not self._closing:
            try:
                connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    # What moved while this connection was away: look once.
                    self._tell_listeners()
                    async for notice in connection.notifies():
                        if notice.payload != self.owner:
                            self._tell_listeners()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._closing:
                    return
                log.warning("listening for timer changes failed (%s); again in 1 s", exc)
                await asyncio.sleep(1.0)

    def on_claims(self, callback: Callable[[int, int], None]) -> None:
        self._on_claims.append(callback)

    def _claimed(self, claimed: int, taken_over: int) -> None:
        self.claimed += claimed
        self.taken_over += taken_over
        for callback in self._on_claims:
            callback(claimed, taken_over)

    def _tell_listeners(self) -> None:
        for callback in self._listeners:
            callback()

    def timers_moved(self) -> None:
        """NOTIFY the other replicas; a burst of moves in one loop turn is one notice."""
        if self._pool is None:
            return
        if self._announce is not None and not self._announce.done():
            self._announce_again = True
            return
        self._announce = asyncio.create_task(self._notify(), name="stretchbot-notify")

    async def _notify(self) -> None:
        while True:
            self._announce_again = False
            await asyncio.sleep(0)
            try:
                await self._execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.owner))
            except Exception as exc:  # the others look again within MAX_SLEEP anyway
                log.debug("NOTIFY failed: %s", exc)
            if not self._announce_again:
                return

    # --- whole chats ----------------------------------------------------------------------

    _CHAT_TABLES = ("reminders", "safety_log", "routines", "rest_days", "seen_updates", "chats")

    async def forget(self, chat_id: int) -> None:
        async with self.write():
            for table in self._CHAT_TABLES:
                await self._execute(f"DELETE FROM {table} WHERE chat_id = %s", (chat_id,))

    async def forget_inactive(self, before: float) -> int:
        rows = await self.all(
            "SELECT chat_id FROM chats WHERE NOT active AND updated_at < %s", (before,)
        )
        for (chat_id,) in rows:
            await self.forget(int(chat_id))
        return len(rows)

    async def forget_updates(self, before: float) -> int:
        return await self._execute("DELETE FROM seen_updates WHERE at < %s", (before,))


# A chat-row write under a lease changes the row only while the lease is still this one's.
_FENCE = (
    "(%(fence_token)s::bigint IS NULL OR (chats.lease_owner = %(fence_owner)s "
    "AND chats.lease_token = %(fence_token)s::bigint))"
)


class PostgresChats:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def _write_row(self, chat_id: int, sql: str, params: dict[str, Any]) -> None:
        """An upsert of the chat row with the lease condition; LeaseLost when it was fenced."""
        fence = self._store.fence(chat_id)
        changed = await self._store._execute(sql, {**params, **fence, "chat": chat_id})
        if changed == 0 and fence["fence_token"] is not None:
            raise LeaseLost(f"chat {chat_id}: another replica holds it now")

    async def load(self, chat_id: int) -> ChatState:
        row = await self._store.one(
            f"SELECT {CHAT_STATE_COLUMNS} FROM chats WHERE chat_id = %s", (chat_id,)
        )
        return chat_state(row)

    async def save(self, chat_id: int, state: ChatState, now: float) -> None:
        await self._write_row(
            chat_id,
            "INSERT INTO chats (chat_id, locale, consent_version, consent_at, declined_at, "
            "routine, wake_at, safety, reminders_paused, last_press, prefs, progress, "
            "updated_at) VALUES (%(chat)s, %(locale)s, %(consent_version)s, %(consent_at)s, "
            "%(declined_at)s, %(routine)s, %(wake_at)s, %(safety)s, %(paused)s, "
            "%(last_press)s, %(prefs)s, %(progress)s, %(now)s) "
            "ON CONFLICT (chat_id) DO UPDATE SET locale = excluded.locale, "
            "consent_version = excluded.consent_version, consent_at = excluded.consent_at, "
            "declined_at = excluded.declined_at, routine = excluded.routine, "
            "wake_at = excluded.wake_at, safety = excluded.safety, "
            "reminders_paused = excluded.reminders_paused, last_press = excluded.last_press, "
            "prefs = excluded.prefs, progress = excluded.progress, "
            f"updated_at = excluded.updated_at WHERE {_FENCE}",
            {
                "locale": state.locale,
                "consent_version": state.consent_version,
                "consent_at": state.consent_at,
                "declined_at": state.declined_at,
                "routine": dump_routine(state.routine),
                "wake_at": state.wake_at,
                "safety": dump_safety(state.safety),
                "paused": state.reminders_paused,
                "last_press": state.last_press,
                "prefs": dump_prefs(state.prefs),
                "progress": dump_progress(state.progress),
                "now": now,
            },
        )

    async def set_active(self, chat_id: int, active: bool, now: float) -> None:
        await self._write_row(
            chat_id,
            "INSERT INTO chats (chat_id, active, updated_at) VALUES (%(chat)s, %(active)s, "
            "%(now)s) ON CONFLICT (chat_id) DO UPDATE SET active = excluded.active, "
            f"updated_at = excluded.updated_at WHERE {_FENCE}",
            {"active": active, "now": now},
        )

    async def settings(self, chat_id: int) -> ChatSettings:
        row = await self._store.one(
            "SELECT locale, timezone, draft, reminders_paused, wake_at IS NOT NULL, active, "
            "prefs FROM chats WHERE chat_id = %s",
            (chat_id,),
        )
        if row is None:
            return ChatSettings()
        language = json.loads(row[6]).get("language") if row[6] else None
        return ChatSettings(
            row[0], row[1], load_draft(row[2]), bool(row[3]), bool(row[4]), bool(row[5]), language
        )

    async def save_settings(
        self,
        chat_id: int,
        timezone: str | None,
        draft: Draft,
        now: float,
        locale: str | None = None,
    ) -> None:
        await self._write_row(
            chat_id,
            "INSERT INTO chats (chat_id, timezone, draft, locale, updated_at) "
            "VALUES (%(chat)s, %(timezone)s, %(draft)s, %(locale)s, %(now)s) "
            "ON CONFLICT (chat_id) DO UPDATE SET timezone = excluded.timezone, "
            "draft = excluded.draft, locale = COALESCE(excluded.locale, chats.locale), "
            f"updated_at = excluded.updated_at WHERE {_FENCE}",
            {"timezone": timezone, "draft": dump_draft(draft), "locale": locale, "now": now},
        )

    async def pending(self, chat_id: int) -> tuple[tuple[Pending, ...], float | None]:
        row = await self._store.one(
            "SELECT pending, pending_at FROM chats WHERE chat_id = %s", (chat_id,)
        )
        return ((), None) if row is None else (load_pending(row[0]), row[1])

    async def set_pending(
        self, chat_id: int, effects: tuple[Pending, ...], at: float | None
    ) -> None:
        await self._write_row(
            chat_id,
            "INSERT INTO chats (chat_id, pending, pending_at, updated_at) "
            "VALUES (%(chat)s, %(pending)s, %(at)s, %(updated)s) "
            "ON CONFLICT (chat_id) DO UPDATE SET pending = excluded.pending, "
            f"pending_at = excluded.pending_at WHERE {_FENCE}",
            {
                "pending": dump_pending(effects),
                "at": at if effects else None,
                "updated": at or 0.0,
            },
        )

    async def wakes_due(self, now: float, limit: int = 500) -> list[Due]:
        """Claim the chats with a timer or effects due that no replica holds: each claimed
        chat's lease is this process's (the step that runs it takes it over). At most
        CHAT_BATCH at once: the loop comes back at once for more, so replicas share a burst."""
        limit = min(limit, CHAT_BATCH)
        rows = await self._store.all(
            "WITH due AS (SELECT chat_id, lease_owner AS was FROM chats "
            "WHERE (wake_at <= %(now)s OR pending_at <= %(now)s) "
            f"AND (lease_owner IS NULL OR lease_until < {DB_NOW}) "
            "ORDER BY LEAST(wake_at, pending_at) LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
            f"UPDATE chats SET lease_owner = %(me)s, lease_until = {DB_NOW} + %(seconds)s, "
            "lease_token = chats.lease_token + 1 FROM due WHERE chats.chat_id = due.chat_id "
            "RETURNING chats.chat_id, chats.wake_at, chats.pending_at, due.was",
            {
                "now": now,
                "limit": limit,
                "me": self._store.owner,
                "seconds": self._store.lease_seconds,
            },
        )
        self._store._held.update(int(r[0]) for r in rows)
        taken = [r for r in rows if r[3] is not None and r[3] != self._store.owner]
        if rows:
            self._store._claimed(len(rows), len(taken))
        if taken:
            log.info("took over %d chats from replicas whose leases ran out", len(taken))
        rows.sort(key=lambda r: min(x for x in (r[1], r[2]) if x is not None))
        return [
            Due(
                int(r[0]),
                float(r[1]) if r[1] is not None and r[1] <= now else None,
                r[2] is not None and r[2] <= now,
            )
            for r in rows
        ]

    async def next_wake(self, now: float | None = None) -> float | None:
        """The earliest timer; a chat a replica holds counts from the end of its lease (when
        `now` says where that is on the timers' clock)."""
        due = "LEAST(wake_at, pending_at)"
        if now is not None:
            due = (
                f"CASE WHEN lease_owner IS NOT NULL AND lease_until >= {DB_NOW} "
                f"THEN GREATEST({due}, %(now)s::float8 + lease_until - {DB_NOW}) ELSE {due} END"
            )
        row = await self._store.one(
            f"SELECT MIN({due}) FROM chats WHERE wake_at IS NOT NULL OR pending_at IS NOT NULL",
            {"now": now},
        )
        return None if row is None or row[0] is None else float(row[0])

    async def see_update(self, chat_id: int, update_id: int, at: float) -> None:
        changed = await self._store._execute(
            "INSERT INTO seen_updates (chat_id, update_id, at) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (chat_id, update_id, at),
        )
        if changed == 0:
            raise AlreadySeen(f"update {update_id} of chat {chat_id}")

    async def seen(self, chat_id: int, update_id: int) -> bool:
        row = await self._store.one(
            "SELECT 1 FROM seen_updates WHERE chat_id = %s AND update_id = %s",
            (chat_id, update_id),
        )
        return row is not None


_DUE_AT = "LEAST(r.next_due, r.snooze_at, r.retry_at)"


class PostgresReminders:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def of_chat(self, chat_id: int) -> tuple[Reminder, ...]:
        rows = await self._store.all(
            f"SELECT {REMINDER_COLUMNS} FROM reminders WHERE chat_id = %s ORDER BY local_time, id",
            (chat_id,),
        )
        return tuple(reminder_from_row(r) for r in rows)

    async def add(self, chat_id: int, reminder: Reminder, now: float) -> int:
        async with self._store.write():
            await self._store._execute(
                "INSERT INTO chats (chat_id, updated_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (chat_id, now),
            )
            row = await self._store.one(
                "INSERT INTO reminders (chat_id, local_time, days, next_due, snooze_at, "
                "created_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    chat_id,
                    reminder.hhmm,
                    format_days_key(reminder.days),
                    reminder.next_due,
                    reminder.snooze_at,
                    now,
                ),
            )
        assert row is not None
        return int(row[0])

    async def delete(self, chat_id: int, reminder_id: int) -> None:
        await self._store._execute(
            "DELETE FROM reminders WHERE chat_id = %s AND id = %s", (chat_id, reminder_id)
        )

    async def update(self, before: Reminder, after: Reminder) -> bool:
        """Move a reminder on (and end this process's claim on it) only if nobody else did."""
        changed = await self._store._execute(
            "UPDATE reminders SET next_due = %s, snooze_at = %s, retry_at = %s, retry_of = %s, "
            "claim_owner = NULL, claim_until = NULL "
            "WHERE id = %s AND next_due = %s AND snooze_at IS NOT DISTINCT FROM %s "
            "AND retry_at IS NOT DISTINCT FROM %s",
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
        return changed == 1

    async def due(self, now: float, limit: int = 1000) -> list[tuple[int, Reminder]]:
        """Claim a batch (at most CLAIM_BATCH: the loop comes back at once for more, so the
        replicas share a burst instead of one claiming it all)."""
        limit = min(limit, CLAIM_BATCH)
        rows = await self._store.all(
            "WITH due AS (SELECT r.id FROM reminders r JOIN chats c ON c.chat_id = r.chat_id "
            "WHERE c.active AND NOT c.reminders_paused "
            "AND (r.next_due <= %(now)s OR r.snooze_at <= %(now)s OR r.retry_at <= %(now)s) "
            f"AND (r.claim_owner IS NULL OR r.claim_until < {DB_NOW}) "
            f"ORDER BY {_DUE_AT}, r.id LIMIT %(limit)s FOR UPDATE OF r SKIP LOCKED) "
            f"UPDATE reminders r SET claim_owner = %(me)s, claim_until = {DB_NOW} + %(seconds)s "
            "FROM due WHERE r.id = due.id RETURNING r.id, r.local_time, r.days, r.next_due, "
            "r.snooze_at, r.retry_at, r.retry_of, r.chat_id",
            {
                "now": now,
                "limit": limit,
                "me": self._store.owner,
                "seconds": self._store.lease_seconds,
            },
        )
        if rows:
            self._store._claimed(len(rows), 0)
        rows.sort(key=lambda r: (min(x for x in (r[3], r[4], r[5]) if x is not None), r[0]))
        return [(int(r[7]), reminder_from_row(r)) for r in rows]

    async def next_due_at(self) -> float | None:
        """The earliest reminder no replica has claimed (a claim that runs out is found by the
        periodic look)."""
        row = await self._store.one(
            f"SELECT MIN({_DUE_AT}) FROM reminders r JOIN chats c ON c.chat_id = r.chat_id "
            "WHERE c.active AND NOT c.reminders_paused "
            f"AND (r.claim_owner IS NULL OR r.claim_until < {DB_NOW})"
        )
        return None if row is None or row[0] is None else float(row[0])


class PostgresSafetyLog:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def record(self, chat_id: int, at: float, record: Record) -> None:
        await self._store._execute(
            "INSERT INTO safety_log (chat_id, at, kind, answer, exercise, side) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (chat_id, at, record.kind, record.answer, record.exercise, record.side),
        )

    async def of_chat(self, chat_id: int) -> list[tuple[float, Record]]:
        rows = await self._store.all(
            "SELECT at, kind, answer, exercise, side FROM safety_log WHERE chat_id = %s "
            "ORDER BY at, id",
            (chat_id,),
        )
        return [(float(r[0]), Record(r[1], r[2] or "", r[3], r[4])) for r in rows]


class PostgresMedia:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def file_id(self, key: str) -> str | None:
        row = await self._store.one("SELECT file_id FROM media WHERE key = %s", (key,))
        return None if row is None else str(row[0])

    async def remember(self, key: str, file_id: str, now: float) -> None:
        await self._store._execute(
            "INSERT INTO media (key, file_id, stored_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET file_id = excluded.file_id, "
            "stored_at = excluded.stored_at",
            (key, file_id, now),
        )

    async def forget(self, key: str) -> None:
        await self._store._execute("DELETE FROM media WHERE key = %s", (key,))


class PostgresHistory:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def record(self, chat_id: int, at: float, history: History) -> None:
        key = (chat_id, history.begun_at)
        if history.kind == "started":
            await self._store._execute(
                "INSERT INTO routines (chat_id, begun_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                key,
            )
        elif history.kind in ("pain_before", "pain_after"):
            await self._store._execute(
                f"UPDATE routines SET {history.kind} = %s WHERE chat_id = %s AND begun_at = %s",
                (history.pain, *key),
            )
        elif history.kind == "ended":
            holds = dump_holds(history)
            await self._store._execute(
                "UPDATE routines SET ended_at = %s, outcome = %s, holds = %s "
                "WHERE chat_id = %s AND begun_at = %s",
                (at, history.outcome, holds, *key),
            )

    async def routines(self, chat_id: int, since: float = 0.0) -> list[RoutineRecord]:
        rows = await self._store.all(
            f"SELECT {ROUTINE_COLUMNS} FROM routines "
            "WHERE chat_id = %s AND begun_at >= %s ORDER BY begun_at",
            (chat_id, since),
        )
        return [routine_record(r) for r in rows]

    async def add_rest_day(self, chat_id: int, day: str) -> None:
        await self._store._execute(
            "INSERT INTO rest_days (chat_id, day) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (chat_id, day),
        )

    async def rest_days(self, chat_id: int) -> list[str]:
        rows = await self._store.all(
            "SELECT day FROM rest_days WHERE chat_id = %s ORDER BY day", (chat_id,)
        )
        return [str(r[0]) for r in rows]
