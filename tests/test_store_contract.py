"""One contract for every store: SQLite (the embedded default) and PostgreSQL (several replicas)
keep and give back the same things. The PostgreSQL runs are on a real server (conftest).

The last tests are PostgreSQL's alone: what several replicas on one database need (leases,
claims, migrations under a lock, NOTIFY)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import time
from pathlib import Path

import psycopg
import pytest

from bot.cli import main
from bot.core.events import History, Record
from bot.core.reminder_types import Draft, Reminder
from bot.core.state import ChatState, Phase, Prefs
from bot.core.times import WEEKDAYS
from bot.devtools.postgres import free_port
from bot.storage import AlreadySeen, LeaseLost, Pending, Store, open_store
from bot.storage.codec import load_routine
from bot.storage.postgres import MIGRATIONS as PG_MIGRATIONS
from bot.storage.postgres import PostgresStore

HOLD = load_routine(
    '{"v":1,"phase":"hold","stretch":1,"started_at":100.0,"ends_at":130.0,"wake_at":105.0}'
)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "contract.sqlite3")
    return str(request.getfixturevalue("postgres"))


@pytest.fixture
async def store(database: str) -> AsyncIterator[Store]:
    opened = open_store(database)
    await opened.open()
    yield opened
    await opened.close()


def reminder(at: float, hhmm: time = time(7, 30)) -> Reminder:
    return Reminder(id=None, local_time=hhmm, days=WEEKDAYS, next_due=at)


async def test_a_chat_never_seen_is_a_fresh_state(store: Store) -> None:
    assert await store.chats.load(1) == ChatState()
    settings = await store.chats.settings(1)
    assert (settings.active, settings.routine_running, settings.language) == (True, False, None)


async def test_a_chat_saved_loads_back_the_same(store: Store) -> None:
    assert HOLD is not None
    state = ChatState(
        locale="es",
        consent_version="c1",
        consent_at=1.5,
        routine=HOLD,
        reminders_paused=True,
        last_press=77,
        prefs=Prefs(language="es"),
    )
    async with store.write():
        await store.chats.save(1, state, 10.0)
        await store.chats.save_settings(1, "Europe/Madrid", Draft(), 10.0)  # the reminders' part
    state = replace(state, timezone="Europe/Madrid")
    loaded = await store.chats.load(1)
    assert loaded == replace(state, safety=loaded.safety, progress=loaded.progress)
    assert loaded.routine is not None and loaded.routine.phase == Phase.HOLD
    settings = await store.chats.settings(1)
    assert settings.routine_running and settings.reminders_paused
    assert (settings.locale, settings.timezone, settings.language) == ("es", "Europe/Madrid", "es")


async def test_settings_and_a_draft_are_kept_beside_the_routine(store: Store) -> None:
    draft = Draft(waiting_for="timezone", since=5.0)
    await store.chats.save_settings(2, "Asia/Tokyo", draft, 1.0, locale="en")
    await store.chats.save_settings(2, "Asia/Tokyo", Draft(), 2.0)  # no locale: kept
    settings = await store.chats.settings(2)
    assert (settings.timezone, settings.locale, settings.draft) == ("Asia/Tokyo", "en", Draft())
    await store.chats.set_active(2, False, 3.0)
    assert not (await store.chats.settings(2)).active


async def test_timers_and_outboxes_come_due_in_order(store: Store) -> None:
    assert HOLD is not None
    for chat, wake in ((1, 300.0), (2, 100.0), (3, None)):
        routine = None if wake is None else replace(HOLD, wake_at=wake)
        await store.chats.save(chat, ChatState(routine=routine), 0.0)
    waiting = (Pending("send", "hello", (("OK", "x", None),)),)
    await store.chats.set_pending(3, waiting, 200.0)
    assert await store.chats.next_wake() == 100.0
    assert await store.chats.pending(3) == (waiting, 200.0)
    due = await store.chats.wakes_due(250.0)
    assert [(d.chat_id, d.at, d.pending) for d in due] == [(2, 100.0, False), (3, None, True)]
    await store.chats.set_pending(3, (), None)
    assert await store.chats.pending(3) == ((), None)


async def test_a_reminder_moves_on_only_from_the_state_it_was_read_in(store: Store) -> None:
    await store.chats.save_settings(5, None, Draft(), 0.0)
    rid = await store.reminders.add(5, reminder(1000.0), 0.0)
    (stored,) = await store.reminders.of_chat(5)
    assert stored.id == rid and stored.days == WEEKDAYS and stored.local_time == time(7, 30)
    assert await store.reminders.next_due_at() == 1000.0
    assert [(c, r.id) for c, r in await store.reminders.due(1000.0)] == [(5, rid)]
    moved = replace(stored, next_due=2000.0, snooze_at=1500.0)
    assert await store.reminders.update(stored, moved)
    assert not await store.reminders.update(stored, moved)  # a second claimant loses
    assert await store.reminders.due(1200.0) == []
    assert await store.reminders.next_due_at() == 1500.0
    await store.chats.set_active(5, False, 1.0)
    assert await store.reminders.due(5000.0) == []  # a chat that blocked the bot
    await store.reminders.delete(5, rid)
    assert await store.reminders.of_chat(5) == ()


async def test_the_safety_log_media_and_history_keep_what_they_are_given(store: Store) -> None:
    await store.safety_log.record(6, 2.0, Record("stop", "pain", "seated_twist", 1))
    await store.safety_log.record(6, 1.0, Record("screening", "no"))
    assert [r.kind for _, r in await store.safety_log.of_chat(6)] == ["screening", "stop"]
    await store.media.remember("twist/en#1", "FILE1", 1.0)
    await store.media.remember("twist/en#1", "FILE2", 2.0)
    assert await store.media.file_id("twist/en#1") == "FILE2"
    await store.media.forget("twist/en#1")
    assert await store.media.file_id("twist/en#1") is None
    await store.history.record(6, 10.0, History("started", 10.0))
    await store.history.record(6, 10.0, History("started", 10.0))  # once only
    await store.history.record(6, 11.0, History("pain_before", 10.0, pain=6))
    await store.history.record(
        6, 99.0, History("ended", 10.0, outcome="finished", holds=((0, 30),))
    )
    (routine,) = await store.history.routines(6)
    assert (routine.outcome, routine.holds, routine.pain_before) == ("finished", ((0, 30),), 6)
    await store.history.add_rest_day(6, "2026-11-26")
    await store.history.add_rest_day(6, "2026-11-26")
    assert await store.history.rest_days(6) == ["2026-11-26"]


async def test_forget_deletes_everything_about_a_chat(store: Store) -> None:
    await store.chats.save(7, ChatState(consent_version="c1"), 1.0)
    await store.reminders.add(7, reminder(10.0), 1.0)
    await store.safety_log.record(7, 1.0, Record("screening", "no"))
    await store.chats.see_update(7, 1, 1.0)
    await store.forget(7)
    assert await store.chats.load(7) == ChatState()
    assert await store.reminders.of_chat(7) == ()
    assert await store.safety_log.of_chat(7) == []
    assert not await store.chats.seen(7, 1)
    await store.chats.set_active(8, False, 1.0)
    await store.chats.set_active(9, False, 500.0)
    assert await store.forget_inactive(100.0) == 1
    assert not (await store.chats.settings(9)).active  # still there


async def test_an_update_is_seen_once(store: Store) -> None:
    await store.chats.see_update(1, 100, 1.0)
    with pytest.raises(AlreadySeen):
        await store.chats.see_update(1, 100, 2.0)
    await store.chats.see_update(2, 100, 2.0)  # another chat's is its own
    assert await store.chats.seen(1, 100) and not await store.chats.seen(1, 101)
    assert await store.forget_updates(1.5) == 1
    assert not await store.chats.seen(1, 100)


async def test_a_write_that_fails_stores_nothing_of_itself(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.write():
            await store.chats.save(1, ChatState(consent_version="c1"), 1.0)
            await store.safety_log.record(1, 1.0, Record("screening", "no"))
            await store.chats.see_update(1, 5, 1.0)
            raise RuntimeError("the step failed")
    assert await store.chats.load(1) == ChatState()
    assert await store.safety_log.of_chat(1) == []
    assert not await store.chats.seen(1, 5)
    await store.ping()


# --- PostgreSQL alone: several replicas on one database ---------------------------------------


@pytest.fixture
async def replicas(postgres: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    a = PostgresStore(postgres, owner="replica-a", lease_seconds=1.0)
    b = PostgresStore(postgres, owner="replica-b", lease_seconds=1.0)
    await a.open()
    await b.open()
    yield a, b
    await a.close()
    await b.close()


async def test_a_chat_held_by_one_replica_waits_for_it(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = replicas
    order: list[str] = []

    async def b_step() -> None:
        async with b.lease(1):
            order.append("b")

    async with a.lease(1):
        waiting = asyncio.create_task(b_step())
        await asyncio.sleep(0.3)  # well past b's first tries
        order.append("a done")
    await asyncio.wait_for(waiting, 5)
    assert order == ["a done", "b"]


async def test_a_replica_that_lost_its_lease_cannot_overwrite_newer_state(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = replicas
    async with a.lease(1):
        await a.chats.save(1, ChatState(consent_version="old"), 1.0)
        assert a._renewer is not None
        a._renewer.cancel()  # a stalls: its lease is not renewed
        await asyncio.sleep(1.2)
        async with b.lease(1):  # b takes the chat over and moves it on
            await b.chats.save(1, ChatState(consent_version="new"), 2.0)
        with pytest.raises(LeaseLost):
            async with a.write():
                await a.safety_log.record(1, 3.0, Record("screening", "no"))
                await a.chats.save(1, ChatState(consent_version="stale"), 3.0)
        with pytest.raises(LeaseLost):  # a step that writes no chat row is fenced too
            async with a.write():
                await a.safety_log.record(1, 3.0, Record("screening", "yes"))
    assert (await b.chats.load(1)).consent_version == "new"
    assert await b.safety_log.of_chat(1) == []  # the stale steps' records went with them


async def test_a_timer_set_under_a_lease_is_looked_at_when_the_lease_is_given_back(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    """While a chat is held its timer counts from the lease's end; giving the lease back says
    so, or a get-ready count set by a tap would wait for the whole lease."""
    a, b = replicas
    assert HOLD is not None
    woken = asyncio.Event()
    b.on_timers_moved(woken.set)
    await asyncio.sleep(0.2)  # b listens
    async with a.lease(1):
        await a.chats.save(1, ChatState(routine=replace(HOLD, wake_at=10.0)), 0.0)
        woken.clear()
    await asyncio.wait_for(woken.wait(), 2)


async def test_due_timers_and_reminders_are_claimed_by_one_replica_each(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = replicas
    assert HOLD is not None
    for chat in range(1, 61):
        await a.chats.save(chat, ChatState(routine=replace(HOLD, wake_at=float(chat))), 0.0)
        await a.reminders.add(chat, reminder(float(chat)), 0.0)
    claims = await asyncio.gather(a.chats.wakes_due(100.0), b.chats.wakes_due(100.0))
    chats = [d.chat_id for claimed in claims for d in claimed]
    assert sorted(chats) == list(range(1, 61))  # each once, by one replica or the other
    assert await a.chats.wakes_due(100.0) == []  # claimed: not due again while held
    due = await asyncio.gather(a.reminders.due(100.0), b.reminders.due(100.0))
    assert sorted(c for claimed in due for c, _ in claimed) == list(range(1, 61))
    # A replica that died: its claims run out and the other takes the work over (b's own
    # claims are renewed: not taken again).
    assert a._renewer is not None
    a._renewer.cancel()
    await asyncio.sleep(1.2)
    retaken = await b.chats.wakes_due(100.0)
    assert sorted(d.chat_id for d in retaken) == sorted(d.chat_id for d in claims[0])
    assert b.taken_over == len(claims[0])


async def test_a_chat_held_elsewhere_is_looked_at_when_its_lease_ends(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = replicas
    assert HOLD is not None
    await a.chats.save(1, ChatState(routine=replace(HOLD, wake_at=10.0)), 0.0)
    assert await b.chats.next_wake(20.0) == 10.0
    async with a.lease(1):
        wake = await b.chats.next_wake(20.0)
        assert wake is not None and 20.5 < wake <= 21.0  # the lease's end, on b's clock


async def test_two_replicas_migrating_at_once_apply_each_version_once(postgres: str) -> None:
    async with await psycopg.AsyncConnection.connect(postgres, autocommit=True) as db:
        await db.execute("DROP SCHEMA public CASCADE")
        await db.execute("CREATE SCHEMA public")
    stores = [PostgresStore(postgres), PostgresStore(postgres)]
    await asyncio.gather(*(s.open() for s in stores))
    for s in stores:
        await s.close()
    async with await psycopg.AsyncConnection.connect(postgres) as db:
        rows = await (await db.execute("SELECT version FROM schema_version")).fetchall()
    assert sorted(r[0] for r in rows) == list(range(1, len(rows) + 1))


async def test_a_moved_timer_wakes_the_other_replicas(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = replicas
    woken = asyncio.Event()
    b.on_timers_moved(woken.set)
    await asyncio.sleep(0.2)  # b listens
    woken.clear()
    a.timers_moved()
    await asyncio.wait_for(woken.wait(), 5)
    woken.clear()
    b.timers_moved()  # its own notice does not wake it
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(woken.wait(), 0.5)


def test_stretchbot_migrate_brings_a_new_database_up_and_names_a_bad_one_in_one_line(
    postgres: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(postgres, autocommit=True) as db:
        db.execute("DROP SCHEMA public CASCADE")
        db.execute("CREATE SCHEMA public")
    monkeypatch.setenv("STRETCHBOT_DATABASE", postgres)
    assert main(["migrate"]) == 0
    assert "schema up to date" in capsys.readouterr().out
    with psycopg.connect(postgres) as db:
        versions = [r[0] for r in db.execute("SELECT version FROM schema_version").fetchall()]
    assert versions == list(range(1, len(PG_MIGRATIONS) + 1))
    assert main(["migrate"]) == 0  # again: nothing to do
    # A server that is not there: one line, and never the password.
    monkeypatch.setenv("STRETCHBOT_DATABASE", f"postgresql://bot:hunter2@127.0.0.1:{free_port()}/x")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("stretchbot: the database postgresql://127.0.0.1:") and "hunter2" not in err
    )
    assert len(err.strip().splitlines()) == 1
