-- 3: a send that failed was tried again as a snooze; this keeps the time it was due, so the
-- retries stop once that is longer ago than the grace period.
ALTER TABLE reminders ADD COLUMN retry_of REAL;
