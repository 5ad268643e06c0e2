"""What the bot counts for /metrics, driven through the real bot on the emulated Bot API."""

from __future__ import annotations

from tests.support.harness import Harness


def sample(h: Harness, name: str, **labels: str) -> float:
    assert h.bot is not None
    value = h.bot.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_updates_messages_429s_and_late_timers_are_counted(harness: Harness) -> None:
    """Each update handled is counted once, each message sent once, a 429 once, and a hold's
    timer run late has its lateness measured."""
    h = harness
    await h.to_first_card()
    updates = len([name for name, _ in h.server.calls if name == "answerCallbackQuery"]) + 1
    assert sample(h, "stretchbot_updates_handled_total", outcome="ok") == updates
    assert sample(h, "stretchbot_messages_sent_total") == len(h.messages())

    await h.tap("Start hold")
    h.jump(40)  # the bot was busy: every timer of the hold is due, and late
    await h.advance(0)
    assert sample(h, "stretchbot_timer_lateness_seconds_count", timer="routine") >= 1
    assert sample(h, "stretchbot_timer_lateness_seconds_sum", timer="routine") >= 30

    h.server.inject_error("sendMessage", status=429, retry_after=1)
    await h.send("/help")  # answered after one retry
    assert sample(h, "stretchbot_telegram_429_total") == 1
    assert sample(h, "stretchbot_messages_sent_total") == len(h.messages())
    assert sample(h, "stretchbot_updates_handled_total", outcome="failed") == 0
