-- 2: reminders, each chat's time zone, and a reminder being set up by buttons.
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
