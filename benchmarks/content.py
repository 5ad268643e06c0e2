"""The content every benchmark runs: the shipped one, with holds starting at the tap."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.core.content import Content, load_content


def bench_content(folder: Path | None = None) -> Content:
    """The shipped content with no get-ready count and no optional pain question: what is
    measured is holding, not getting ready, and a hold's start is the tap."""
    shipped = load_content(folder)
    progress = shipped.routine.progress.model_copy(update={"ask_pain": False})
    routine = shipped.routine.model_copy(update={"get_ready_seconds": 0, "progress": progress})
    return dataclasses.replace(shipped, routine=routine)
