-- 10: the updates each chat has seen, so an update Telegram delivers again (a webhook answered
-- late, a poller restarted before it confirmed) is dropped. Kept two days (Telegram keeps an
-- undelivered update for one).
CREATE TABLE seen_updates (
    chat_id   INTEGER NOT NULL,
    update_id INTEGER NOT NULL,
    at        REAL NOT NULL,
    PRIMARY KEY (chat_id, update_id)
);
CREATE INDEX seen_updates_at ON seen_updates (at);
