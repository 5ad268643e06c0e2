"""Storage: the only package that writes SQL. Knows nothing of Telegram or of what a routine
means: it keeps what the core hands it, as the core's own types (`ChatState`, `Reminder`).

`Store` is what the rest of the bot needs: chats, reminders and the safety log, each a store of
its own. `SqliteStore` is the embedded default (schema/); `PostgresStore` serves several
replicas on one database (schema_postgres/). `open_store` picks one from the setting.
"""

from os import PathLike
from pathlib import Path
from typing import Any

from bot.storage.protocols import (
    AlreadySeen,
    ChatSettings,
    ChatStore,
    Due,
    HistoryStore,
    LeaseLost,
    MediaStore,
    Pending,
    ReminderStore,
    RoutineRecord,
    SafetyLog,
    Store,
    StoreUnavailable,
)
from bot.storage.sqlite import MIGRATIONS, SqliteStore


def is_postgres(database: str | PathLike[str]) -> bool:
    return str(database).startswith(("postgresql://", "postgres://"))


def sqlite_path(database: str | PathLike[str]) -> Path:
    """The file of a SQLite database setting: a path, or sqlite:///path."""
    text = str(database)
    return Path(text.removeprefix("sqlite:///") if text.startswith("sqlite:///") else text)


def open_store(database: str | PathLike[str], **options: Any) -> Store:
    """The store a `STRETCHBOT_DATABASE` names: postgresql://... is PostgreSQL (see
    bot.storage.postgres), a path or sqlite:///path a SQLite file."""
    if is_postgres(database):
        from bot.storage.postgres import PostgresStore  # psycopg only when it is used

        return PostgresStore(str(database), **options)
    return SqliteStore(sqlite_path(database), **options)


__all__ = [
    "MIGRATIONS",
    "AlreadySeen",
    "ChatSettings",
    "ChatStore",
    "Due",
    "HistoryStore",
    "LeaseLost",
    "MediaStore",
    "Pending",
    "ReminderStore",
    "RoutineRecord",
    "SafetyLog",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
    "is_postgres",
    "open_store",
    "sqlite_path",
]
