"""Storage: the only package that writes SQL. Knows nothing of Telegram or of what a routine
means: it keeps what the core hands it, as the core's own types (`ChatState`, `Reminder`).

`Store` is what the rest of the bot needs: chats, reminders and the safety log, each a store of
its own. `SqliteStore` is the embedded default; the schema is versioned SQL in schema/.
"""

from bot.storage.protocols import (
    ChatSettings,
    ChatStore,
    Due,
    HistoryStore,
    MediaStore,
    Pending,
    ReminderStore,
    RoutineRecord,
    SafetyLog,
    Store,
    StoreUnavailable,
)
from bot.storage.sqlite import MIGRATIONS, SqliteStore

__all__ = [
    "MIGRATIONS",
    "ChatSettings",
    "ChatStore",
    "Due",
    "HistoryStore",
    "MediaStore",
    "Pending",
    "ReminderStore",
    "RoutineRecord",
    "SafetyLog",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
]
