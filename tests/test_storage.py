"""Storage: what an older release wrote still loads, and what this one writes carries a version."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace
from datetime import time
from pathlib import Path

import pytest

from bot.core.reminder_types import Draft
from bot.core.state import ChatState, Phase
from bot.core.times import WEEKDAYS
from bot.storage import MIGRATIONS, SqliteStore, StoreUnavailable


def old_database(path: Path, schema: int) -> None:
    """A database as the release with `schema` migrations left it, with a chat and reminders."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER)")
        for version, script in enumerate(MIGRATIONS[:schema], start=1):
            db.executescript(script)
            db.execute("INSERT INTO schema_version VALUES (?)", (version,))
        hold = '{"phase":"hold","stretch":1,"started_at":100.0,"ends_at":130.0,"wake_at":105.0}'
        draft = '{"waiting_for":"timezone","time":null,"days":[],"since":50.0}'
        db.execute(
            "INSERT INTO chats (chat_id, consent_version, consent_at, routine, wake_at, timezone, "
            "draft, updated_at) VALUES (7, 'c1', 1.0, ?, 105.0, 'Europe/Berlin', ?, 1.0)",
            (hold, draft),
        )
        # A user's snooze, and (as schema 3 and 4 kept them) a delivery retry as a snooze.
        db.execute(
            "INSERT INTO reminders (chat_id, local_time, days, next_due, snooze_at, created_at, "
            "retry_of) VALUES (7, '07:30', 'weekdays', 1000.0, 200.0, 1.0, NULL)"
        )
        db.execute(
            "INSERT INTO reminders (chat_id, local_time, days, next_due, snooze_at, created_at, "
            "retry_of) VALUES (7, '18:00', 'every_day', 2000.0, 300.0, 1.0, 250.0)"
        )


async def test_a_database_of_the_release_before_loads_and_upgrades(tmp_path: Path) -> None:
    """Chats, drafts and reminders stored by schema 4 read back as the same things."""
    path = tmp_path / "old.sqlite3"
    old_database(path, schema=4)
    store = SqliteStore(path)
    await store.open()
    try:
        state = await store.chats.load(7)
        assert state.routine is not None and state.routine.phase == Phase.HOLD
        assert state.routine.stretch == 1 and state.wake_at == 105.0
        settings = await store.chats.settings(7)
        assert settings.timezone == "Europe/Berlin"
        assert settings.draft == Draft(waiting_for="timezone", since=50.0)
        snoozed, retried = await store.reminders.of_chat(7)
        assert (snoozed.local_time, snoozed.days) == (time(7, 30), WEEKDAYS)
        assert (snoozed.snooze_at, snoozed.retry_at) == (200.0, None)
        # The retry that borrowed the snooze column has a column of its own now.
        assert (retried.snooze_at, retried.retry_at, retried.retry_of) == (None, 300.0, 250.0)
        await store.chats.save(7, state, 110.0)
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        (routine,) = db.execute("SELECT routine FROM chats WHERE chat_id = 7").fetchone()
        (version,) = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    assert json.loads(routine)["v"] == 1  # written with its format version from now on
    assert version == len(MIGRATIONS)


async def test_a_database_newer_than_the_bot_is_refused(tmp_path: Path) -> None:
    """A schema this release does not know stops start-up instead of guessing."""
    path = tmp_path / "new.sqlite3"
    old_database(path, schema=len(MIGRATIONS))
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS) + 1,))
    store = SqliteStore(path)
    try:
        with pytest.raises(RuntimeError, match="newer than this version of the bot knows"):
            await store.open()
    finally:
        await store.close()


async def test_a_write_waiting_for_a_lock_held_elsewhere_leaves_the_bot_serving(
    tmp_path: Path,
) -> None:
    """While an operator's shell holds the write lock, reads go on at once, a write waits (off
    the event loop) and lands when the lock is let go, or gives up cleanly after its timeout."""
    path = tmp_path / "locked.sqlite3"
    store = SqliteStore(path, busy_timeout=2.0)
    await store.open()
    try:
        state = await store.chats.load(7)
        await store.chats.save(7, replace(state, locale="en"), 1.0)
        shell = sqlite3.connect(path, isolation_level=None)
        shell.execute("BEGIN EXCLUSIVE")
        waiting = asyncio.create_task(store.chats.save(7, replace(state, locale="de"), 2.0))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        # The loop is free: another chat's state is read meanwhile.
        assert (await store.chats.load(7)).locale == "en"
        shell.execute("ROLLBACK")
        await asyncio.wait_for(waiting, timeout=2.0)
        assert (await store.chats.load(7)).locale == "de"

        # A write that is given up (its task cancelled) leaves no transaction half open.
        shell.execute("BEGIN EXCLUSIVE")
        given_up = asyncio.create_task(store.chats.save(7, replace(state, locale="fr"), 3.0))
        await asyncio.sleep(0.05)
        given_up.cancel()
        await asyncio.sleep(0.05)
        shell.execute("ROLLBACK")
        with pytest.raises(asyncio.CancelledError):
            await given_up
        await store.chats.save(7, replace(state, locale="es"), 4.0)
        assert (await store.chats.load(7)).locale == "es"
        shell.close()
    finally:
        await store.close()


async def test_a_lock_held_past_the_timeout_is_a_clear_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    store = SqliteStore(path, busy_timeout=0.1)
    await store.open()
    shell = sqlite3.connect(path, isolation_level=None)
    try:
        shell.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable, match="locked"):
            await store.chats.save(7, ChatState(locale="en"), 1.0)
        shell.execute("ROLLBACK")
        await store.chats.save(7, ChatState(locale="en"), 2.0)
        assert (await store.chats.load(7)).locale == "en"
    finally:
        shell.close()
        await store.close()
