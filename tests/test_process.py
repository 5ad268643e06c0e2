"""`stretchbot run` as a real process, on the emulated Bot API served over HTTP (127.0.0.1)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.config import Settings
from bot.devtools.emulator import FakeTelegram
from bot.devtools.factory import EMULATOR_TOKEN as TOKEN
from bot.devtools.http import HttpFront
from bot.logs import REDACTED, setup_logging

CHAT = 5150
# How long a real process may take to answer: generous, since CI machines can be busy. A test
# that passes waits only as long as the answer takes.
PATIENCE = 10.0
# The checkout under test: a process started in a temporary folder imports `bot` from here, not
# from wherever the environment's editable install points (another worktree, say).
CHECKOUT = str(Path(__file__).resolve().parent.parent)


@pytest.fixture
async def front() -> AsyncIterator[HttpFront]:
    http = await HttpFront(FakeTelegram()).start()
    yield http
    await http.stop()


async def start_bot(front: HttpFront, tmp_path: Path, **env: str) -> asyncio.subprocess.Process:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "STRETCH"))}
    environment.update(
        PYTHONPATH=CHECKOUT,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=front.base_url,
        STRETCHBOT_DATABASE=str(tmp_path / "bot.sqlite3"),
        STRETCHBOT_LOG_LEVEL="DEBUG",
        STRETCHBOT_SPEED="100",
        **env,
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=tmp_path, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop_bot(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0, err.decode()
    return err.decode()


async def test_run_serves_a_user_survives_a_restart_and_never_logs_the_token(
    front: HttpFront, tmp_path: Path
) -> None:
    """The real process answers over HTTP, stops on SIGTERM, keeps consent, hides the token."""
    server = front.server
    process = await start_bot(front, tmp_path)
    await server.wait_until(lambda: bool(server.commands), within=20)
    server.user_sends(CHAT, "/start")
    await server.wait_until(lambda: len(server.texts(CHAT)) == 2, within=10)
    server.user_taps(CHAT, "I understand, continue")
    await server.wait_until(lambda: server.last(CHAT).text.startswith("1 of 6"), within=PATIENCE)
    log = await stop_bot(process)

    # The safety check goes on where it was after the restart.
    process = await start_bot(front, tmp_path)

    def asking(number: int) -> Callable[[], bool]:
        return lambda: server.last(CHAT).text.startswith(f"{number} of 6")

    for number in range(2, 7):
        server.user_taps(CHAT, "No")
        await server.wait_until(asking(number), within=PATIENCE)
    server.user_taps(CHAT, "None of these")
    await server.wait_until(  # the optional pain score comes first
        lambda: server.last(CHAT).text.startswith("Before we start"), within=PATIENCE
    )
    server.user_taps(CHAT, "Skip")
    await server.wait_until(
        lambda: server.last(CHAT).text.startswith("First, warm up"), within=PATIENCE
    )
    assert server.last(CHAT).button_texts == ["I'm warm", "Not yet, guide me"]
    log += await stop_bot(process)

    assert "Stretch Coach is ready" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert server.protocol_errors == []


async def test_a_second_instance_polling_stops_the_bot_with_one_line(
    front: HttpFront, tmp_path: Path
) -> None:
    """Another process polls with the same token: the bot stops, says why, exit status 1."""
    server = front.server
    process = await start_bot(front, tmp_path)
    await server.wait_until(lambda: bool(server.commands), within=20)
    request = server.request()  # another instance: a getUpdates of its own ends the first one
    await request.initialize()
    url = f"{front.base_url}{TOKEN}/getUpdates"
    await request.post(url, request_data=None, read_timeout=1)
    await request.shutdown()
    _, err = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 1
    assert (
        err.decode()
        .splitlines()[-1]
        .startswith("stretchbot: another instance of the bot is polling with this token")
    )
    assert TOKEN not in err.decode()


async def run_cli(tmp_path: Path, **env: str) -> tuple[int | None, str]:
    """Run `python -m bot run` with only the given settings; return its exit status and stderr."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "STRETCH"))}
    environment.update(PYTHONPATH=CHECKOUT, **env)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=environment,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    return process.returncode, err.decode()


async def test_run_without_a_token_says_how_to_get_one(tmp_path: Path) -> None:
    """No token: one line pointing to @BotFather and the console, exit status 2."""
    status, err = await run_cli(tmp_path)
    assert status == 2
    assert err.startswith("stretchbot: TELEGRAM_BOT_TOKEN is not set: talk to @BotFather")
    assert "stretchbot console" in err and err.count("\n") == 1


async def test_a_malformed_setting_names_the_variable(tmp_path: Path) -> None:
    """STRETCHBOT_SPEED=fast stops start-up with a line that names the variable."""
    status, err = await run_cli(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, STRETCHBOT_SPEED="fast")
    assert status == 2
    assert "STRETCHBOT_SPEED: Input should be a valid number" in err
    assert TOKEN not in err


async def test_an_unreachable_bot_api_is_one_line_and_no_token(tmp_path: Path) -> None:
    """A Bot API nobody answers at: a few retries, then one clear line, exit status 1."""
    status, err = await run_cli(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL="http://127.0.0.1:9/bot"
    )
    assert status == 1
    assert err.splitlines()[-1].startswith(
        "stretchbot: cannot reach the Bot API at http://127.0.0.1:9/bot"
    )
    assert "Traceback" not in err and TOKEN not in err


# A read-only database takes the same path ("attempt to write a readonly database" on the trial
# write), but cannot be made here: the tests run as root, whom file permissions do not stop.
@pytest.mark.parametrize("problem", ["corrupt", "newer"])
async def test_a_database_that_cannot_be_used_is_one_line_and_an_exit(
    tmp_path: Path, problem: str
) -> None:
    """A corrupt or newer database: one line naming it, exit status 1, no hang."""
    database = tmp_path / "data" / "stretchbot.sqlite3"
    database.parent.mkdir()
    if problem == "corrupt":
        database.write_bytes(b"this is not a database" * 100)
    else:
        with sqlite3.connect(database) as db:
            db.execute("CREATE TABLE schema_version (version INTEGER)")
            db.execute(
                "INSERT INTO schema_version VALUES (999)"
                if problem == "newer"
                else "INSERT INTO schema_version VALUES (0)"
            )
        if problem == "read-only":
            database.chmod(0o444)
            database.parent.chmod(0o555)
    try:
        status, err = await asyncio.wait_for(
            run_cli(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, STRETCHBOT_DATABASE=str(database)), 30
        )
    finally:
        database.parent.chmod(0o755)
    assert status == 1, err
    assert err.startswith(f"stretchbot: the database {database} cannot be used")
    assert "Traceback" not in err and err.count("\n") == 1


def test_log_lines_and_tracebacks_are_redacted(capfd: pytest.CaptureFixture[str]) -> None:
    """A token in a URL logged by httpx at DEBUG, or in an exception, never reaches the log."""
    setup_logging("DEBUG", secrets=(TOKEN,))
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    logging.getLogger("httpx").debug(
        "HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN
    )
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        logging.getLogger("bot").exception("start-up failed")
    err = capfd.readouterr().err
    logging.getLogger().handlers.clear()
    assert TOKEN not in err
    assert f"https://api.telegram.org/bot{REDACTED}/getMe" in err
    assert f"RuntimeError: The token `{REDACTED}` was rejected" in err


def test_the_database_password_never_reaches_the_log(capfd: pytest.CaptureFixture[str]) -> None:
    """A postgresql:// setting's password is redacted like the token, wherever it shows."""
    settings = Settings(database="postgresql://bot:s3cr%40t-pw@db:5432/stretch", _env_file=None)
    setup_logging("INFO", secrets=(TOKEN, *settings.database_secrets()))
    logging.getLogger("psycopg.pool").warning("connecting with password s3cr@t-pw failed")
    err = capfd.readouterr().err
    logging.getLogger().handlers.clear()
    assert "s3cr@t-pw" not in err and REDACTED in err
