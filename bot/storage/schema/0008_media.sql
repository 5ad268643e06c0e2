-- 8: pictures uploaded to Telegram once: the file_id Telegram gave for each picture, by a key
-- naming the picture, its language and a fingerprint of its source (a changed drawing or
-- label is a new key, so it is uploaded again). A file_id belongs to one bot token.
CREATE TABLE media (
    key TEXT PRIMARY KEY,
    file_id TEXT NOT NULL,
    stored_at REAL NOT NULL
);
