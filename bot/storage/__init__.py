"""Storage: the only package that writes SQL. Knows nothing of Telegram or of what a routine
means; it stores what the core hands it."""

from bot.storage.sqlite import MIGRATIONS, Due, ReminderRow, SqliteStore, Store

__all__ = ["MIGRATIONS", "Due", "ReminderRow", "SqliteStore", "Store"]
