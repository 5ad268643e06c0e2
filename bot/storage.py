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

from bot.routine import ChatState, dump_routine, load_routine

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
)


@dataclass(frozen=True)
class Due:
    chat_id: int
    at: float


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def load(self, chat_id: int) -> ChatState: ...
    async def save(self, chat_id: int, state: ChatState, now: float) -> None: ...
    async def set_active(self, chat_id: int, active: bool, now: float) -> None: ...
    async def is_active(self, chat_id: int) -> bool: ...
    async def due(self, now: float, limit: int = 500) -> list[Due]: ...
    async def next_due(self) -> float | None: ...


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
            "SELECT locale, consent_version, consent_at, declined_at, routine "
            "FROM chats WHERE chat_id = ?",
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
        )

    async def save(self, chat_id: int, state: ChatState, now: float) -> None:
        await self.db.execute(
            "INSERT INTO chats (chat_id, locale, consent_version, consent_at, declined_at, "
            "routine, wake_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET locale = excluded.locale, "
            "consent_version = excluded.consent_version, consent_at = excluded.consent_at, "
            "declined_at = excluded.declined_at, routine = excluded.routine, "
            "wake_at = excluded.wake_at, updated_at = excluded.updated_at",
            (
                chat_id,
                state.locale,
                state.consent_version,
                state.consent_at,
                state.declined_at,
                dump_routine(state.routine),
                state.wake_at,
                now,
            ),
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
