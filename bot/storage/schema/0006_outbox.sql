-- 6: each step is durable before it is visible: the effects a step still has to show (JSON, in
-- order) are saved with its state, and `pending_at` says when to try them next. `last_press`
-- is the message whose button was handled last, so taps on it again are answered quietly.
ALTER TABLE chats ADD COLUMN pending TEXT;
ALTER TABLE chats ADD COLUMN pending_at REAL;
ALTER TABLE chats ADD COLUMN last_press INTEGER;
CREATE INDEX chats_pending_at ON chats (pending_at) WHERE pending_at IS NOT NULL;
