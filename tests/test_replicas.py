"""Several replicas on one PostgreSQL database, through the emulated Bot API: they share the
work, lose nothing, and never send a cue or a reminder twice.

Two replicas are two `StretchBot`s (two python-telegram-bot Applications) in this process, on a
real PostgreSQL server (conftest), with their own timer loops on the real clock. A load balancer
gives each update to one of them. Holds are shortened by the speed setting.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Update

from bot.config import Settings
from bot.core.content import Content
from bot.core.plan import compile_plan
from bot.core.reminder_types import Draft, Reminder
from bot.core.times import EVERY_DAY
from bot.devtools.emulator import Event, FakeTelegram
from bot.devtools.factory import EMULATOR_TOKEN as TOKEN
from bot.devtools.factory import emulated_bot
from bot.devtools.http import HttpFront
from bot.devtools.replicas import kill
from bot.storage.postgres import PostgresStore
from bot.telegram.app import StretchBot
from bot.telegram.webhook import SECRET_HEADER, Webhook
from tests.test_webhook import cli, environment, free_port

SPEED = 10.0  # a 30 s hold lasts 3 s
LEASE = 2.0  # seconds: a dead replica's chats are taken over this long after it died


@dataclass
class Replicas:
    content: Content
    postgres: str
    server: FakeTelegram = field(default_factory=FakeTelegram)
    bots: list[StretchBot] = field(default_factory=list)
    stacks: list[AsyncExitStack] = field(default_factory=list)
    turn: int = 0

    async def start(self, count: int = 2) -> None:
        settings = Settings(database=self.postgres, speed=SPEED, replicas=count, _env_file=None)
        for n in range(count):
            stack = AsyncExitStack()
            store = PostgresStore(self.postgres, owner=f"replica-{n}", lease_seconds=LEASE)
            bot = await stack.enter_async_context(
                emulated_bot(settings, self.content, self.server, store=store, run_timers=True)
            )
            self.bots.append(bot)
            self.stacks.append(stack)

    async def stop(self) -> None:
        for stack in self.stacks:
            await stack.aclose()

    async def process(self, raw: dict[str, Any], replica: int | None = None) -> None:
        """The load balancer: each update to the next live replica, in turn."""
        if replica is None:
            live = [b for b in self.bots if not b.killed]
            bot = live[self.turn % len(live)]
            self.turn += 1
        else:
            bot = self.bots[replica]
        await asyncio.create_task(bot.app.process_update(Update.de_json(raw, bot.app.bot)))

    async def to_first_card(self, chat: int) -> None:
        en = self.content.texts("en")
        await self.process(self.server.user_sends(chat, "/start"))
        await self.process(self.server.user_taps(chat, en.buttons.accept))
        for _ in self.content.routine.safety.questions:
            await self.process(self.server.user_taps(chat, en.safety.buttons.no))
        await self.process(self.server.user_taps(chat, en.safety.buttons.none_of_these))
        await self.process(self.server.user_taps(chat, en.buttons.warm))

    async def holding(self, chats: range) -> list[int]:
        """Two replicas started, and every chat brought to its first card, then "Start hold"
        tapped in each (the updates shared between the replicas)."""
        await self.start(2)
        start_hold = self.content.texts("en").buttons.start_hold
        for chat in chats:
            await self.to_first_card(chat)
        for chat in chats:
            await self.process(self.server.user_taps(chat, start_hold))
        return list(chats)

    async def kill(self, replica: int, holding: list[int] | None = None) -> None:
        await kill(self.bots[replica], holding)


@pytest.fixture
async def replicas(content: Content, postgres: str) -> AsyncIterator[Replicas]:
    r = Replicas(content, postgres)
    yield r
    await r.stop()
    assert r.server.protocol_errors == []
    assert r.server.spec_violations == []


def cue_texts(content: Content) -> set[str]:
    plan = compile_plan(content)
    stretch = plan.stretches[0]
    cues = content.texts("en").hold.cues
    return {
        cues[c.text_key].format(seconds_left=round(stretch.hold_seconds - c.offset))
        for c in plan.cues_for(stretch.hold_seconds)
    }


def claims(bot: StretchBot) -> int:
    assert isinstance(bot.store, PostgresStore)
    return bot.store.claimed


async def wait_for(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:g} s: {what}")
        await asyncio.sleep(0.05)


async def test_two_replicas_run_200_holds_with_every_cue_sent_once(
    replicas: Replicas, content: Content
) -> None:
    en = content.texts("en")
    chats = await replicas.holding(range(50_001, 50_201))
    rest = en.hold.finished
    server = replicas.server
    await wait_for(
        lambda: all(any(m.text.startswith(rest) for m in server.messages(c)) for c in chats),
        120,
        "every hold released",
    )
    cues = cue_texts(content)
    countdown = en.hold.countdown.split("{", 1)[0]
    for chat in chats:
        sent = Counter(m.text for m in server.messages(chat))
        assert all(sent[cue] == 1 for cue in cues), (chat, sent)
        assert sum(n for text, n in sent.items() if text.startswith(countdown)) == 1
        assert sum(n for text, n in sent.items() if text.startswith(rest)) == 1
    assert all(claims(bot) > 0 for bot in replicas.bots)  # both ran timers


async def test_two_replicas_send_1000_due_reminders_each_once(
    replicas: Replicas, content: Content, postgres: str
) -> None:
    seeder = PostgresStore(postgres, owner="seeder")
    await seeder.open()
    now = time.time()
    chats = list(range(60_001, 61_001))
    for chat in chats:
        replicas.server.user_sends(chat, "hi")  # the chat exists on the emulated Telegram
        await seeder.chats.save_settings(chat, "UTC", Draft(), now)
        reminder = Reminder(None, clock_time(7, 0), EVERY_DAY, next_due=now - 1)
        await seeder.reminders.add(chat, reminder, now)
    await seeder.close()
    sent: Counter[int] = Counter()

    ours = set(chats)

    def listen(event: Event) -> None:
        if event.kind == "sent" and event.chat_id in ours:
            sent[event.chat_id] += 1

    replicas.server.add_listener(listen)
    await replicas.start(2)
    await wait_for(lambda: len(sent) == len(chats), 120, "every reminder sent")
    await asyncio.sleep(1.0)  # nothing more comes
    assert set(sent.values()) == {1}
    assert all(claims(bot) > 0 for bot in replicas.bots)  # both sent reminders


@pytest.mark.parametrize("mid_step", [False, True], ids=["between-steps", "holding-every-chat"])
async def test_a_replica_killed_mid_hold_has_its_chats_continued_by_the_other(
    replicas: Replicas, content: Content, mid_step: bool
) -> None:
    """Killed between steps (it holds no lease), or in the middle of a step of every chat (the
    other waits for the leases to run out): every hold is released once, within the lease
    time, and none begins again."""
    en = content.texts("en")
    chats = await replicas.holding(range(52_001, 52_041))
    server = replicas.server
    countdown = en.hold.countdown.split("{", 1)[0]
    await wait_for(
        lambda: all(any(m.text.startswith(countdown) for m in server.messages(c)) for c in chats),
        30,
        "every hold started",
    )
    killed_at = time.monotonic()
    await replicas.kill(0, holding=chats if mid_step else None)
    rest = en.hold.finished
    late = en.hold.ended_late.split("{", 1)[0]
    released: dict[int, float] = {}

    def done() -> bool:
        for c in chats:
            if c not in released and any(
                m.text.startswith(rest) or m.text.startswith(late) for m in server.messages(c)
            ):
                released[c] = time.monotonic()
        return len(released) == len(chats)

    await wait_for(done, 60, "every hold released by the replica left")
    takeover = max(released.values()) - killed_at
    hold = content.routine.exercises[0].hold.seconds / SPEED
    assert takeover < hold + LEASE + 3.0, takeover
    for chat in chats:  # no hold began again: one countdown message, one release
        texts = [m.text for m in server.messages(chat)]
        assert sum(t.startswith(countdown) for t in texts) == 1, texts
        assert sum(t.startswith(rest) or t.startswith(late) for t in texts) == 1, texts


async def test_a_redelivered_update_has_one_effect_on_any_replica(
    replicas: Replicas, content: Content
) -> None:
    await replicas.start(2)
    raw = replicas.server.user_sends(53_001, "/start")
    await asyncio.gather(replicas.process(raw, 0), replicas.process(raw, 1))
    await replicas.process(raw, 0)
    disclaimers = [m for m in replicas.server.messages(53_001) if m.button_texts]
    assert len(disclaimers) == 1


async def test_two_webhook_replicas_refuse_a_wrong_secret_and_apply_a_repeat_once(
    content: Content, postgres: str
) -> None:
    """Telegram posts to a load balancer in front of two `serve` replicas: a post without the
    secret is refused by either; the same update posted to both (a redelivery while the first
    is still being handled) has one effect."""
    secret = "replica_secret"
    settings = Settings(
        database=postgres,
        replicas=2,
        drain_seconds=0,
        webhook_url="http://bot.test/telegram",
        webhook_secret=secret,
        _env_file=None,
    )
    server = FakeTelegram()
    async with AsyncExitStack() as stack:
        clients = []
        for n in range(2):
            store = PostgresStore(postgres, owner=f"webhook-{n}", lease_seconds=LEASE)
            bot = await stack.enter_async_context(
                emulated_bot(settings, content, server, store=store, webhook=True)
            )
            hook = Webhook(bot, path="/telegram", secret=secret)
            transport = httpx.ASGITransport(hook.app)
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://bot.test")
                )
            )
        update = server.user_sends(54_001, "/start")
        for client in clients:
            refused = await client.post("/telegram", json=update, headers={SECRET_HEADER: "no"})
            assert refused.status_code == 403
        assert server.texts(54_001) == []
        answers = await asyncio.gather(
            *(c.post("/telegram", json=update, headers={SECRET_HEADER: secret}) for c in clients)
        )
        assert [a.status_code for a in answers] == [200, 200]
        shown = [m for m in server.messages(54_001) if m.button_texts]
        assert len(shown) == 1  # the disclaimer, once
        await server.aclose()


async def test_two_serve_processes_one_killed_the_other_carries_its_hold_on(
    tmp_path: Path, shipped_content: Content, postgres: str
) -> None:
    """Two real `stretchbot serve` processes on one PostgreSQL and the emulated Telegram over
    HTTP. The user's updates are pushed to the first; it is killed (SIGKILL) in the middle of a
    hold. The second, which ran timers all along, releases the hold once, within the lease,
    and takes the user's next tap once the webhook points at it."""
    en = shipped_content.texts("en")
    front = await HttpFront(FakeTelegram()).start()
    server = front.server
    server.webhook.settings.retry_delay = 0.1
    ports = [free_port(), free_port()]
    common = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": front.base_url,
        "TELEGRAM_WEBHOOK_SECRET": "two_processes",
        "STRETCHBOT_DATABASE": postgres,
        "STRETCHBOT_REPLICAS": "2",
        "STRETCHBOT_LEASE_SECONDS": "2",
        "STRETCHBOT_SPEED": "10",
        "STRETCHBOT_DRAIN_SECONDS": "0",
    }

    def env(n: int) -> dict[str, str]:
        return {
            **common,
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{ports[n]}/telegram",
            "STRETCHBOT_LISTEN": f"127.0.0.1:{ports[n]}",
        }

    processes: list[asyncio.subprocess.Process] = []
    chat = 55_001
    await to_the_first_card(shipped_content, postgres, server, chat)
    try:
        for n in range(2):
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "serve",
                    cwd=tmp_path,
                    env=environment(tmp_path, **env(n)),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )
        async with httpx.AsyncClient() as client:
            for port in ports:
                await wait_for_ready(client, port)
        assert (await cli(tmp_path, "set-webhook", **env(0)))[0] == 0

        tapped = [0]  # the message last tapped: the next tap is on a newer one

        def offered(label: str) -> bool:
            messages = server.messages(chat)
            last = messages[-1] if messages else None
            return last is not None and last.message_id > tapped[0] and label in last.button_texts

        async def tap(label: str) -> None:
            await server.wait_until(lambda: offered(label), within=15)
            tapped[0] = server.last(chat).message_id
            server.user_taps(chat, label, message_id=tapped[0])

        tapped[0] = server.last(chat).message_id - 1  # the card, shown before the processes
        await tap(en.buttons.start_hold)
        countdown = en.hold.countdown.split("{", 1)[0]
        await server.wait_until(
            lambda: any(m.text.startswith(countdown) for m in server.messages(chat)), within=15
        )
        processes[0].kill()  # in the middle of the 3 s hold
        await processes[0].wait()
        release = (en.hold.finished, en.hold.ended_late.split("{", 1)[0])
        await server.wait_until(
            lambda: any(m.text.startswith(release) for m in server.messages(chat)), within=15
        )
        texts = server.texts(chat)
        assert sum(t.startswith(countdown) for t in texts) == 1  # not begun again
        assert sum(t.startswith(release) for t in texts) == 1
        # Telegram is pointed at the one left; the user's next tap is its.
        assert (await cli(tmp_path, "set-webhook", **env(1)))[0] == 0
        await tap(en.buttons.start_hold)  # the next side's card, from the one left
        await server.wait_until(
            lambda: sum(m.text.startswith(countdown) for m in server.messages(chat)) == 2,
            within=15,
        )
        assert server.protocol_errors == []
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), timeout=30)
        await front.stop()
    assert processes[1].returncode == 0


async def to_the_first_card(
    content: Content, postgres: str, server: FakeTelegram, chat: int
) -> None:
    """The user through consent, the safety check and the warm-up check, in this process with
    no pacing (these steps are not what is tested, and at Telegram's one message a second per
    chat they would take half a minute)."""
    en = content.texts("en")
    settings = Settings(database=postgres, _env_file=None)
    async with emulated_bot(settings, content, server, run_timers=False) as bot:

        async def process(raw: dict[str, Any]) -> None:
            await asyncio.create_task(bot.app.process_update(Update.de_json(raw, bot.app.bot)))

        await process(server.user_sends(chat, "/start"))
        await process(server.user_taps(chat, en.buttons.accept))
        for _ in content.routine.safety.questions:
            await process(server.user_taps(chat, en.safety.buttons.no))
        await process(server.user_taps(chat, en.safety.buttons.none_of_these))
        if en.progress.skip in server.last(chat).button_texts:  # the pain question
            await process(server.user_taps(chat, en.progress.skip))
        await process(server.user_taps(chat, en.buttons.warm))
    assert en.buttons.start_hold in server.last(chat).button_texts


async def wait_for_ready(client: httpx.AsyncClient, port: int) -> None:
    for _ in range(300):
        try:
            if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"serve on {port} never became ready")
