"""Fixtures: the content, and a harness running the real bot on the emulated Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.content import Content, load_content
from tests.support.harness import Harness


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
    h = Harness(tmp_path, content)
    await h.start()
    yield h
    await h.stop()
    assert h.server.protocol_errors == []
    assert h.server.spec_violations == []
    assert h.server.unanswered_callbacks == set()
