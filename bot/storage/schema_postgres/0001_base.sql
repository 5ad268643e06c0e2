-- 1: everything SQLite's schema 1-9 holds, in PostgreSQL's types, plus what several replicas on
-- one database need: a lease on each chat (who holds it, until when on the database's clock, and
-- a token that grows with each new holder, so a replica that lost its lease cannot write), a
-- claim on each reminder, and the updates each chat has seen (a redelivered update is dropped).
-- Times of the bot's own (wake_at, next_due, ...) are epoch seconds, as in SQLite.
CREATE TABLE chats (
    chat_id          BIGINT PRIMARY KEY,
    locale           TEXT,
    consent_version  TEXT,
    consent_at       DOUBLE PRECISION,
    declined_at      DOUBLE PRECISION,
    routine          TEXT,
    wake_at          DOUBLE PRECISION,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at       DOUBLE PRECISION NOT NULL,
    timezone         TEXT,
    draft            TEXT,
    safety           TEXT,
    reminders_paused BOOLEAN NOT NULL DEFAULT FALSE,
    pending          TEXT,
    pending_at       DOUBLE PRECISION,
    last_press       BIGINT,
    prefs            TEXT,
    progress         TEXT,
    lease_owner      TEXT,
    lease_until      DOUBLE PRECISION,
    lease_token      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX chats_wake_at ON chats (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX chats_pending_at ON chats (pending_at) WHERE pending_at IS NOT NULL;
CREATE INDEX chats_lease_owner ON chats (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE TABLE reminders (
    id          BIGSERIAL PRIMARY KEY,
    chat_id     BIGINT NOT NULL,
    local_time  TEXT NOT NULL,
    days        TEXT NOT NULL,
    next_due    DOUBLE PRECISION NOT NULL,
    snooze_at   DOUBLE PRECISION,
    created_at  DOUBLE PRECISION NOT NULL,
    retry_of    DOUBLE PRECISION,
    retry_at    DOUBLE PRECISION,
    claim_owner TEXT,
    claim_until DOUBLE PRECISION
);
CREATE INDEX reminders_chat ON reminders (chat_id);
CREATE INDEX reminders_next_due ON reminders (next_due);
CREATE INDEX reminders_snooze_at ON reminders (snooze_at) WHERE snooze_at IS NOT NULL;
CREATE INDEX reminders_retry_at ON reminders (retry_at) WHERE retry_at IS NOT NULL;
CREATE TABLE safety_log (
    id        BIGSERIAL PRIMARY KEY,
    chat_id   BIGINT NOT NULL,
    at        DOUBLE PRECISION NOT NULL,
    kind      TEXT NOT NULL,
    answer    TEXT NOT NULL,
    exercise  TEXT,
    side      INTEGER
);
CREATE INDEX safety_log_chat ON safety_log (chat_id, at);
CREATE TABLE media (
    key       TEXT PRIMARY KEY,
    file_id   TEXT NOT NULL,
    stored_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE routines (
    chat_id     BIGINT NOT NULL,
    begun_at    DOUBLE PRECISION NOT NULL,
    ended_at    DOUBLE PRECISION,
    outcome     TEXT,
    holds       TEXT,
    pain_before INTEGER,
    pain_after  INTEGER,
    PRIMARY KEY (chat_id, begun_at)
);
CREATE TABLE rest_days (
    chat_id BIGINT NOT NULL,
    day     TEXT NOT NULL,
    PRIMARY KEY (chat_id, day)
);
CREATE TABLE seen_updates (
    chat_id   BIGINT NOT NULL,
    update_id BIGINT NOT NULL,
    at        DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (chat_id, update_id)
);
CREATE INDEX seen_updates_at ON seen_updates (at);
