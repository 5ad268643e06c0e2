-- 1: chats with consent, language, routine progress and the next timer's due time.
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
