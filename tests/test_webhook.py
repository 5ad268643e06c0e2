"""Webhook mode: Telegram (the emulator) posts updates to `serve`'s ASGI app, which answers once
the step is handled and saved; health, readiness, metrics; the real process; JSON logs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from telegram import Bot
from telegram.error import Conflict

from bot.config import ConfigError, Settings, load_settings
from bot.core.content import Content
from bot.devtools.emulator import FakeTelegram, WebhookSettings
from bot.devtools.factory import EMULATOR_TOKEN as TOKEN
from bot.devtools.factory import emulated_bot
from bot.devtools.http import HttpFront
from bot.logs import REDACTED, setup_logging
from bot.storage import SqliteStore
from bot.telegram.app import StretchBot
from bot.telegram.webhook import SECRET_HEADER, Webhook, WebhookServer

CHAT = 6060
SECRET = "s3cret_for-the-webhook"
URL = "http://bot.test/telegram"
CHECKOUT = str(Path(__file__).resolve().parent.parent)


@dataclass
class Served:
    """The bot in webhook mode, in this process: the emulated Telegram pushes to its ASGI app."""

    server: FakeTelegram
    bot: StretchBot
    hook: Webhook
    client: httpx.AsyncClient  # a client of the ASGI app, as a load balancer or Telegram
    database: Path

    def rows(self) -> list[int]:
        """The chats stored, read by another connection (what a restart would find)."""
        with sqlite3.connect(self.database) as db:
            return [int(row[0]) for row in db.execute("SELECT chat_id FROM chats")]

    async def post(self, update: object, secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.client.post("/telegram", json=update, headers=headers)


@asynccontextmanager
async def served(tmp_path: Path, content: Content) -> AsyncIterator[Served]:
    database = tmp_path / "bot.sqlite3"
    settings = Settings(
        database=database,
        drain_seconds=0,
        webhook_url=URL,
        webhook_secret=SECRET,
        _env_file=None,
    )
    server = FakeTelegram()
    async with emulated_bot(
        settings,
        content,
        server,
        store=SqliteStore(database, busy_timeout=0.05),
        run_timers=False,
        webhook=True,
    ) as bot:
        hook = Webhook(bot, path=settings.webhook_path, secret=SECRET)
        # The emulated Telegram reaches the app in this process, not over the network.
        server.webhook.settings = WebhookSettings(
            retry_delay=0.02, max_attempts=4, transport=httpx.ASGITransport(hook.app)
        )
        transport = httpx.ASGITransport(hook.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
            try:
                yield Served(server, bot, hook, client, database)
            finally:
                await server.aclose()
    assert server.protocol_errors == []
    assert server.spec_violations == []


async def test_a_post_without_the_right_secret_is_refused_and_changes_nothing(
    tmp_path: Path, content: Content
) -> None:
    """No secret or a wrong one: 403, no message reaches the chat and nothing is stored."""
    async with served(tmp_path, content) as s:
        update = s.server.user_sends(CHAT, "/start")
        assert (await s.post(update, secret=None)).status_code == 403
        assert (await s.post(update, secret="not-the-secret")).status_code == 403
        assert (await s.post(update, secret=SECRET[:-1])).status_code == 403
        assert s.server.texts(CHAT) == []
        assert s.rows() == []

        # Telegram itself with a wrong secret: refused every time, then given up on.
        assert await s.bot.app.bot.set_webhook(URL, secret_token="wrong")
        await s.server.webhook_idle()
        assert [p.status for p in s.server.webhook_pushes] == [403] * 4
        assert s.server.webhook_dropped == [update["update_id"]]
        info = await s.bot.app.bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"
        assert s.server.texts(CHAT) == [] and s.rows() == []
        metrics = (await s.client.get("/metrics")).text
        assert 'stretchbot_updates_handled_total{outcome="forbidden"} 7.0' in metrics


async def test_start_pushed_by_telegram_is_answered_after_the_chat_is_stored(
    tmp_path: Path, content: Content
) -> None:
    """/start pushed with the secret: the disclaimer and its buttons reach the chat, and the
    200 comes only once the chat's row is stored."""
    async with served(tmp_path, content) as s:
        update = s.server.user_sends(CHAT, "/start")
        response = await s.post(update)
        # Nothing awaited between the answer and these checks: all was done before the 200.
        assert response.status_code == 200
        assert s.rows() == [CHAT]
        texts = s.server.texts(CHAT)
        assert len(texts) == 2 and "not a doctor" in texts[1]
        assert s.server.last(CHAT).button_texts == ["I understand, continue", "No thanks"]

        # Through Telegram's own pushes: the /start still queued there (posted by hand above,
        # so a duplicate now), then a tap, answered in the chat.
        assert await s.bot.app.bot.set_webhook(URL, secret_token=SECRET)
        tap = s.server.user_taps(CHAT, "I understand, continue")
        await s.server.webhook_idle()
        pushes = [(p.update_id, p.status) for p in s.server.webhook_pushes]
        assert pushes == [(update["update_id"], 200), (tap["update_id"], 200)]
        assert s.server.last(CHAT).text.startswith("1 of 6")
        assert s.server.unanswered_callbacks == set()


async def test_an_update_delivered_twice_has_one_effect(tmp_path: Path, content: Content) -> None:
    """The same body posted twice: both 200, one set of messages, the second a duplicate."""
    async with served(tmp_path, content) as s:
        update = s.server.user_sends(CHAT, "/start")
        assert (await s.post(update)).status_code == 200
        once = s.server.texts(CHAT)
        assert (await s.post(update)).status_code == 200
        assert s.server.texts(CHAT) == once
        metrics = (await s.client.get("/metrics")).text
        assert 'stretchbot_updates_handled_total{outcome="duplicate"} 1.0' in metrics


async def test_a_database_away_gets_503_and_telegram_delivers_it_again(
    tmp_path: Path, content: Content
) -> None:
    """The database locked by another program: 503, nothing shown; Telegram sends the same
    update again once it is free, and the chat gets one answer, with no error message."""
    async with served(tmp_path, content) as s:
        assert await s.bot.app.bot.set_webhook(URL, secret_token=SECRET)
        s.server.webhook.settings.retry_delay = 0.2
        other = sqlite3.connect(s.database, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            update = s.server.user_sends(CHAT, "/start")
            await s.server.wait_until(lambda: len(s.server.webhook_pushes) >= 1)
            assert s.server.webhook_pushes[0].status == 503
            assert s.server.texts(CHAT) == []
        finally:
            other.execute("ROLLBACK")
            other.close()
        await s.server.webhook_idle()
        pushes = s.server.webhook_pushes
        assert {p.update_id for p in pushes} == {update["update_id"]}
        assert pushes[-1].status == 200 and all(p.status == 503 for p in pushes[:-1])
        texts = s.server.texts(CHAT)
        assert len(texts) == 2 and "not a doctor" in texts[1]
        assert s.rows() == [CHAT]


async def test_health_readiness_and_metrics(tmp_path: Path, content: Content) -> None:
    """/healthz and /readyz answer 200; /readyz turns 503 once a stop begins; /metrics counts
    the updates handled and the messages sent."""
    async with served(tmp_path, content) as s:
        assert (await s.client.get("/healthz")).status_code == 200
        assert (await s.client.get("/readyz")).status_code == 200
        assert (await s.post(s.server.user_sends(CHAT, "/start"))).status_code == 200
        assert (await s.post({"not": "an update"})).status_code == 400
        garbage = await s.client.post(
            "/telegram", content=b"{not json", headers={SECRET_HEADER: SECRET}
        )
        assert garbage.status_code == 400
        huge = await s.client.post(
            "/telegram", content=b" " * (2 << 20), headers={SECRET_HEADER: SECRET}
        )
        assert huge.status_code == 413
        response = await s.client.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain")
        assert 'stretchbot_updates_handled_total{outcome="ok"} 1.0' in response.text
        assert "stretchbot_messages_sent_total 2.0" in response.text
        assert "stretchbot_telegram_429_total 0.0" in response.text
        assert "stretchbot_claims_taken_over_total 0.0" in response.text
        assert 'stretchbot_timer_lateness_seconds_count{timer="routine"}' in response.text

        # SIGTERM, as uvicorn receives it: not ready at once; no new connections after the
        # drain (0 s here).
        config = uvicorn.Config(s.hook.app, lifespan="off", log_config=None)
        server = WebhookServer(config, s.hook, drain_seconds=0)
        server.handle_exit(signal.SIGTERM, None)
        assert (await s.client.get("/readyz")).status_code == 503
        assert (await s.client.get("/healthz")).status_code == 200
        assert await server.on_tick(1)


def test_webhook_settings_are_checked_and_the_secret_never_quoted() -> None:
    """A secret Telegram would refuse, or a listen address that is not host:port: one line
    naming the variable, without the secret."""
    with pytest.raises(ConfigError) as bad_secret:
        load_settings(webhook_secret="has spaces and ünicode", _env_file=None)
    assert str(bad_secret.value).startswith("TELEGRAM_WEBHOOK_SECRET: ")
    assert "spaces" not in str(bad_secret.value)
    with pytest.raises(ConfigError, match=r"STRETCHBOT_LISTEN: .*not host:port"):
        load_settings(listen="8080", _env_file=None)
    with pytest.raises(ConfigError, match=r"TELEGRAM_WEBHOOK_URL: .*not a URL"):
        load_settings(webhook_url="bot.example.org/telegram", _env_file=None)
    settings = load_settings(
        webhook_url="https://bot.example.org/telegram",
        listen="0.0.0.0:8443",
        log_format="JSON",
        _env_file=None,
    )
    assert (settings.webhook_path, settings.listen_host, settings.listen_port) == (
        "/telegram",
        "0.0.0.0",
        8443,
    )
    assert settings.log_format == "json" and settings.drain_seconds == 5


def test_json_log_lines_parse_and_never_show_the_token(capfd: pytest.CaptureFixture[str]) -> None:
    """STRETCHBOT_LOG_FORMAT=json: each line is a JSON object; the token is redacted in
    messages and tracebacks alike."""
    setup_logging("DEBUG", secrets=(TOKEN,), log_format="json")
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    logging.getLogger("httpx").debug("HTTP Request: POST https://api.telegram.org/bot%s/x", TOKEN)
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected.")
    except RuntimeError:
        logging.getLogger("bot").exception("start-up failed")
    err = capfd.readouterr().err
    logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in err.splitlines()]
    assert [line["level"] for line in lines] == ["DEBUG", "ERROR"]
    assert lines[0]["message"] == f"HTTP Request: POST https://api.telegram.org/bot{REDACTED}/x"
    assert lines[1]["logger"] == "bot" and REDACTED in lines[1]["exception"]
    assert TOKEN not in err and TOKEN.split(":")[1] not in err


# --- the real process ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(tmp_path: Path, **env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "STRETCH"))}
    return {**base, "PYTHONPATH": CHECKOUT, **env}


async def cli(tmp_path: Path, *args: str, **env: str) -> tuple[int | None, str, str]:
    """`python -m bot ARGS` to its end: exit status, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=environment(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode, out.decode(), err.decode()


async def test_serve_as_a_process_takes_telegrams_pushes_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    """set-webhook, then `serve`: a user's /start is pushed to it and answered in the chat;
    `run` meanwhile refuses to poll; SIGTERM stops it with status 0; JSON logs, no secrets."""
    front = await HttpFront(FakeTelegram()).start()
    front.server.webhook.settings.retry_delay = 0.1
    port = free_port()
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": front.base_url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "STRETCHBOT_LISTEN": f"127.0.0.1:{port}",
        "STRETCHBOT_DATABASE": str(tmp_path / "bot.sqlite3"),
        "STRETCHBOT_DRAIN_SECONDS": "0",
        "STRETCHBOT_LOG_FORMAT": "json",
    }
    try:
        status, out, err = await cli(tmp_path, "set-webhook", **env)
        assert status == 0, err
        assert f"url: http://127.0.0.1:{port}/telegram" in out
        assert "pending updates: 0" in out and "last error: none" in out
        assert SECRET not in out + err and TOKEN not in out + err
        assert (await cli(tmp_path, "set-webhook", **env))[:2] == (0, out)  # idempotent

        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=environment(tmp_path, **env),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                for _ in range(200):
                    try:
                        if (await client.get("/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                server = front.server
                server.user_sends(CHAT, "/start")
                await server.wait_until(lambda: len(server.texts(CHAT)) == 2, within=10)
                assert "not a doctor" in server.texts(CHAT)[1]
                await server.webhook_idle()
                metrics = (await client.get("/metrics")).text
                assert 'stretchbot_updates_handled_total{outcome="ok"} 1.0' in metrics

            # Polling while the webhook is set: one line saying what to do.
            status, _, run_err = await cli(tmp_path, "run", **env)
            assert status == 1
            assert run_err.splitlines()[-1].startswith("stretchbot: a webhook is set for this bot")
            assert "stretchbot delete-webhook" in run_err.splitlines()[-1]
        finally:
            process.send_signal(signal.SIGTERM)
            _, serve_err = await asyncio.wait_for(process.communicate(), timeout=20)
        assert process.returncode == 0, serve_err.decode()
        lines = [json.loads(line) for line in serve_err.decode().splitlines()]
        messages = [line["message"] for line in lines]
        assert any("Stretch Coach is ready" in m for m in messages)
        assert any("/readyz answers 503" in m for m in messages)
        assert TOKEN not in serve_err.decode() and SECRET not in serve_err.decode()
        assert [p.status for p in front.server.webhook_pushes] == [200], front.server.webhook_pushes

        status, out, err = await cli(tmp_path, "delete-webhook", **env)
        assert status == 0, err
        assert "webhook deleted" in out and "url: (none" in out
        assert front.server.webhook_url == ""
        assert front.server.protocol_errors == []
    finally:
        await front.stop()


async def test_serve_without_a_secret_is_one_line_and_status_2(tmp_path: Path) -> None:
    """No TELEGRAM_WEBHOOK_SECRET: `serve` does not start; one line says what to set."""
    status, _, err = await cli(
        tmp_path,
        "serve",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram",
    )
    assert status == 2
    assert err.startswith("stretchbot: TELEGRAM_WEBHOOK_SECRET is not set") and err.count("\n") == 1
    assert TOKEN not in err


async def test_telegram_keeps_an_update_while_the_webhook_is_unreachable() -> None:
    """Nobody listens at the webhook: the same update is tried again, then dropped and named
    in getWebhookInfo; getUpdates is refused meanwhile, and deleteWebhook lets polling back."""
    server = FakeTelegram()
    server.webhook.settings = WebhookSettings(retry_delay=0.01, max_attempts=3)
    bot = Bot(TOKEN, request=server.request(), get_updates_request=server.request())
    try:
        async with bot:
            url = f"http://127.0.0.1:{free_port()}/telegram"
            assert await bot.set_webhook(url, secret_token=SECRET)
            update = server.user_sends(CHAT, "/start")
            second = server.user_sends(CHAT, "hello")
            await server.wait_until(lambda: len(server.webhook_pushes) >= 3)
            assert [(p.update_id, p.status) for p in server.webhook_pushes[:3]] == [
                (update["update_id"], None)
            ] * 3
            assert server.webhook_pushes[0].error == "Connection refused"
            assert server.webhook_dropped[:1] == [update["update_id"]]
            with pytest.raises(Conflict, match="webhook is active"):
                await bot.get_updates()
            info = await bot.get_webhook_info()
            assert info.url == url and info.last_error_message == "Connection refused"
            assert await bot.delete_webhook()
            polled = await bot.get_updates()
            assert second["update_id"] in [u.update_id for u in polled]
    finally:
        await server.aclose()
