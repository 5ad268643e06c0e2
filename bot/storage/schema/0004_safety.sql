-- 4: safety: the last warning-sign check and recent Stops (JSON), reminders paused after a
-- warning sign or a stopped routine, and a log of every safety event, kept for good.
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
