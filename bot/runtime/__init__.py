"""The runtime: the clock, the runner that applies events to a chat under its lock and saves,
the timer loops, and reminder delivery. Talks to Telegram only through the `Outbox` protocol."""
