"""Fixtures: the content, and a harness running the real bot on the emulated Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from bot.core.content import Content, load_content
from bot.devtools.postgres import LocalPostgres
from tests.support.harness import Harness

# An existing PostgreSQL server's database to test on (it is emptied before each test that uses
# it); by default the tests start their own (bot.devtools.postgres).
POSTGRES_ENV = "STRETCHBOT_TEST_POSTGRES"


@pytest.fixture(scope="session")
def shipped_content() -> Content:
    """The content as shipped in content/."""
    return load_content()


@pytest.fixture(scope="session")
def content(shipped_content: Content) -> Content:
    """The shipped content with the get-ready count set to 0 and no pain question: "Start hold"
    starts the hold at once and the summary ends the routine, as the tests of everything but
    the coach and progress assume (tests/test_coach.py and tests/test_progress.py use the
    shipped content)."""
    progress = shipped_content.routine.progress.model_copy(update={"ask_pain": False})
    routine = shipped_content.routine.model_copy(
        update={"get_ready_seconds": 0, "progress": progress}
    )
    return replace(shipped_content, routine=routine)


@pytest.fixture
async def harness(tmp_path: Path, content: Content) -> AsyncIterator[Harness]:
    async for h in running_harness(Harness(tmp_path, content)):
        yield h


@pytest.fixture(params=["sqlite", "postgres"])
async def harness_on_both(
    request: pytest.FixtureRequest, tmp_path: Path, content: Content
) -> AsyncIterator[Harness]:
    """The harness on SQLite, then on PostgreSQL: a module's tests run on both stores."""
    url = request.getfixturevalue("postgres") if request.param == "postgres" else None
    async for h in running_harness(Harness(tmp_path, content, postgres=url)):
        yield h


async def running_harness(h: Harness) -> AsyncIterator[Harness]:
    await h.start()
    yield h
    await h.stop()
    assert h.server.protocol_errors == []
    assert h.server.spec_violations == []
    assert h.server.unanswered_callbacks == set()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for the session (or the one STRETCHBOT_TEST_POSTGRES names)."""
    given = os.environ.get(POSTGRES_ENV)
    if given:
        yield given
        return
    with LocalPostgres() as server:
        yield server.url


def _migrated(url: str) -> None:
    """Bring the database to this release's schema (on a thread of its own: a fixture's event
    loop is not running yet, and must not be replaced)."""
    from bot.storage.postgres import PostgresStore

    async def migrate() -> None:
        store = PostgresStore(url)
        await store.open()
        await store.close()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, migrate()).result()


@pytest.fixture
def postgres(postgres_server: str) -> str:
    """The test database, migrated and emptied (truncated, not created again: faster)."""
    _migrated(postgres_server)
    with psycopg.connect(postgres_server, autocommit=True) as db:
        tables = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_version'"
        ).fetchall()
        db.execute(f"TRUNCATE {', '.join(t[0] for t in tables)} RESTART IDENTITY")
    return postgres_server


def _dump_tasks(signum: int, frame: object) -> None:
    """SIGUSR1: print the stack of every asyncio task of the running loop (a hang's where)."""
    loop = asyncio.events._get_running_loop()
    if loop is None:
        print("no running loop", file=sys.stderr)
        return
    for task in asyncio.all_tasks(loop):
        print(f"--- {task!r}", file=sys.stderr)
        task.print_stack(file=sys.stderr)


signal.signal(signal.SIGUSR1, _dump_tasks)
