"""What the bot counts, for Prometheus (`GET /metrics` in webhook mode).

One `Metrics` per bot, each with a registry of its own (not prometheus_client's global one), so
two bots in one process (tests, benchmarks) never clash. Knows nothing of python-telegram-bot:
the runtime counts its timers' lateness here too.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# How an update ended: handled; a handler failed (the user was told); the same update again;
# refused at the door (a webhook post without the right secret).
OUTCOMES: Final = ("ok", "failed", "duplicate", "forbidden")
# Timers whose lateness is measured: the routine's (holds, rests, cues) and reminders.
TIMERS: Final = ("routine", "reminder")
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST


class Metrics:
    """The bot's counters and histograms, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.updates = Counter(
            "stretchbot_updates_handled",
            "Updates handled, by outcome (ok, failed, duplicate, forbidden).",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in OUTCOMES:
            self.updates.labels(outcome)
        self.messages_sent = Counter(
            "stretchbot_messages_sent",
            "Messages the bot sent through its outbox (steps, cues, reminders).",
            registry=self.registry,
        )
        self.too_many_requests = Counter(
            "stretchbot_telegram_429",
            "Calls Telegram answered with 429 Too Many Requests.",
            registry=self.registry,
        )
        self.timer_lateness = Histogram(
            "stretchbot_timer_lateness_seconds",
            "Seconds between a timer's due time and when it ran.",
            ["timer"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
            registry=self.registry,
        )
        for timer in TIMERS:
            self.timer_lateness.labels(timer)
        self.claims = Counter(
            "stretchbot_claims",
            "Due work (a chat's timer, a reminder) claimed by this replica.",
            registry=self.registry,
        )
        self.claims_taken_over = Counter(
            "stretchbot_claims_taken_over",
            "Claims (a chat's lease, a reminder) taken over from another replica that let go.",
            registry=self.registry,
        )

    def claimed(self, claimed: int, taken_over: int) -> None:
        self.claims.inc(claimed)
        self.claims_taken_over.inc(taken_over)

    def update(self, outcome: str) -> None:
        self.updates.labels(outcome).inc()

    def late(self, timer: str, seconds: float) -> None:
        self.timer_lateness.labels(timer).observe(max(seconds, 0.0))

    def exposition(self) -> bytes:
        """Everything, in Prometheus' text format."""
        return generate_latest(self.registry)
