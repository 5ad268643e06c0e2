-- 9: progress. `chats.progress` is the routine under way and the last routines' pain scores
-- (JSON). `routines` is every routine a user began: when, how it ended, what was held
-- (JSON: [[stretch, seconds], ...]) and the pain before and after (0-10, NULL: not given).
-- `rest_days` are the days a user declared a rest day (their local date), which keep a streak.
ALTER TABLE chats ADD COLUMN progress TEXT;
CREATE TABLE routines (
    chat_id INTEGER NOT NULL,
    begun_at REAL NOT NULL,
    ended_at REAL,
    outcome TEXT,
    holds TEXT,
    pain_before INTEGER,
    pain_after INTEGER,
    PRIMARY KEY (chat_id, begun_at)
);
CREATE TABLE rest_days (
    chat_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    PRIMARY KEY (chat_id, day)
);
