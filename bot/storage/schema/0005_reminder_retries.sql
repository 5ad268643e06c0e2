-- 5: a delivery retry has a time of its own instead of borrowing the snooze column (a retry
-- was a snooze with retry_of set). Old and new releases overlap during a deploy: this only adds.
ALTER TABLE reminders ADD COLUMN retry_at REAL;
UPDATE reminders SET retry_at = snooze_at, snooze_at = NULL WHERE retry_of IS NOT NULL;
CREATE INDEX reminders_retry_at ON reminders (retry_at) WHERE retry_at IS NOT NULL;
