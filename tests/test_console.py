"""`stretchbot console`: the real bot in a terminal, driven through standard input."""

from __future__ import annotations

import asyncio
import io
import signal
import sys
import time
from pathlib import Path

from bot.config import Settings
from bot.core.content import Content
from bot.devtools.console import run_console


class SlowTyper(io.StringIO):
    """Standard input typed by a person: each line a moment after the bot has answered."""

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        time.sleep(0.15)
        return super().readline()


async def test_console_walks_through_the_first_hold(tmp_path: Path, content: Content) -> None:
    """Typed commands and numbered buttons reach the bot; countdown edits are shown live."""
    settings = Settings(database=tmp_path / "console.sqlite3", speed=100, _env_file=None)
    out = io.StringIO()
    # accept; "hello" at the first question; No five times; "None of these"; warm; start hold
    stdin = SlowTyper("/start\n1\nhello\n" + "2\n" * 5 + "7\n1\n1\n" + "\n" * 6 + "/quit\n")
    assert await run_console(settings, content, stdin=stdin, stdout=out) == 0
    shown = out.getvalue()
    assert "   [1] I understand, continue   [2] No thanks" in shown
    assert "  Please answer with a button below." in shown
    assert "   [7] None of these   [8] Done" in shown
    assert "  Right knee bent" in shown
    # The card's picture is saved to a file, and its path printed above the card.
    line = next(line for line in shown.splitlines() if line.startswith("  [picture: "))
    picture = Path(line.removeprefix("  [picture: ").removesuffix("]"))
    assert picture.read_bytes()[:4] == b"\x89PNG"  # noqa: ASYNC240 (a test, after the run)
    assert "   [1] Start hold   [2] ⏹ Stop" in shown
    assert "    ↻ ⏱ 25 s left · Right knee bent" in shown
    assert shown.count("   [1] ⏹ Stop") <= 3  # the countdown's, the rest's: not every edit
    assert "  Halfway." in shown
    assert "  Get ready for the next one: Exercise 1: seated twist, Left knee bent." in shown
    assert "  Left knee bent" in shown
    assert (tmp_path / "console.sqlite3").exists()


async def test_a_restarted_console_continues_the_routine(tmp_path: Path, content: Content) -> None:
    """Leave the console mid-hold and come back: the hold is still running."""
    settings = Settings(database=tmp_path / "console.sqlite3", speed=10, _env_file=None)
    first = io.StringIO()
    typed = "/start\n1\n" + "2\n" * 5 + "7\n1\n1\n"
    await run_console(settings, content, stdin=SlowTyper(typed), stdout=first)
    assert "⏱ 30 s left · Right knee bent" in first.getvalue()
    second = io.StringIO()
    await run_console(settings, content, stdin=SlowTyper("hi\n"), stdout=second)
    assert "  Want to stop? If it hurts, ease out of the position now" in second.getvalue()


async def test_ctrl_c_leaves_the_console_at_once(tmp_path: Path) -> None:
    """Ctrl-C while the console waits for a line: it leaves, without waiting for Enter."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "console", "--database", str(tmp_path / "c.sqlite3"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    await asyncio.wait_for(process.stdout.readline(), 20)  # the console is up
    await asyncio.sleep(1.0)
    process.send_signal(signal.SIGINT)
    await asyncio.wait_for(process.wait(), 10)  # stdin still open: no Enter was typed
    assert process.returncode == 130


async def test_the_console_saves_the_chart_and_the_export_to_files(
    tmp_path: Path, content: Content
) -> None:
    settings = Settings(database=tmp_path / "console.sqlite3", speed=100, _env_file=None)
    out = io.StringIO()
    typed = "/start\n1\n" + "2\n" * 5 + "7\n1\n1\n" + "\n" * 8 + "/progress\n/export\n/quit\n"
    await run_console(settings, content, stdin=SlowTyper(typed), stdout=out)
    shown = out.getvalue()
    files = [line for line in shown.splitlines() if line.startswith("  [file: ")]
    assert files, shown[-2000:]
    csv_path = Path(files[-1].removeprefix("  [file: ").removesuffix("]"))
    assert csv_path.name.endswith("stretch-coach.csv")
    assert csv_path.read_text("utf-8-sig").startswith("record,date,time")  # noqa: ASYNC240
