-- 7: what a user chose in /settings (hold times, rest, get-ready count, countdown edits), as
-- versioned JSON; NULL is the content's defaults.
ALTER TABLE chats ADD COLUMN prefs TEXT;
