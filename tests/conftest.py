"""Fixtures: the content, and a harness running the real bot on the emulated Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.content import Content, load_content
from tests.support.harness import Harness


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content()


@pytest.fixture
async def harness(tmp_path: Path, content: Content) -> AsyncIterator[Harness]:
    h = Harness(tmp_path, content)
    await h.start()
    yield h
    await h.stop()
    assert h.server.protocol_errors == []
    assert h.server.spec_violations == []
    assert h.server.unanswered_callbacks == set()
