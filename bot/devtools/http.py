"""The emulated Bot API served over HTTP on 127.0.0.1, for the real `stretchbot run`.

Point `TELEGRAM_BASE_URL` at it (http://127.0.0.1:PORT/bot) and the bot talks to it through
python-telegram-bot's ordinary HTTP client, exactly as it would to Telegram: a test of the whole
process (polling, signals, logging) with no network. Form, JSON and query parameters are
accepted, and uploads (multipart/form-data: a picture, an export). Knows nothing of the
stretching bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from telegram.error import NetworkError

from bot.devtools.emulator import FakeTelegram

# Telegram takes photos up to 10 MB.
MAX_BODY = 10 << 20


@dataclass
class _Params:
    """Stands in for python-telegram-bot's RequestData: the decoded call parameters."""

    parameters: dict[str, Any] = field(default_factory=dict)
    contains_files: bool = False
    multipart_data: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)


class HttpFront:
    def __init__(self, server: FakeTelegram, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = server
        self.host = host
        self.port = port
        self._listener: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    async def start(self) -> HttpFront:
        self._listener = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._listener.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self.server.aclose()
        if self._listener is not None:
            self._listener.close()
            for task in list(self._connections):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._listener.wait_closed()
            self._listener = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while await self._one_request(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        except NetworkError:  # an injected refusal: the connection is dropped
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        request_line = await reader.readline()
        if not request_line:
            return False
        method, target, _ = request_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = min(int(headers.get("content-length", "0")), MAX_BODY)
        body = await reader.readexactly(length) if length else b""
        url = urlsplit(target)
        params: dict[str, Any] = dict(parse_qsl(url.query))
        kind = headers.get("content-type", "").split(";")[0].strip()
        if kind == "application/json" and body:
            params.update(json.loads(body))
        elif kind == "application/x-www-form-urlencoded":
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        files: dict[str, tuple[str, bytes, str]] = {}
        if kind == "multipart/form-data":  # an upload (sendPhoto, sendDocument)
            files = _multipart(headers["content-type"], body, params)
        http_method = "POST" if method in ("POST", "GET") else method
        status, payload = await self.server.handle(
            url.path,
            http_method,
            _Params(params, bool(files), files),  # type: ignore[arg-type]
        )
        reason = {
            200: "OK",
            400: "Bad Request",
            403: "Forbidden",
            404: "Not Found",
            409: "Conflict",
            429: "Too Many Requests",
        }.get(status, "Error")
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        return headers.get("connection", "").lower() != "close"


def _multipart(
    content_type: str, body: bytes, params: dict[str, Any]
) -> dict[str, tuple[str, bytes, str]]:
    """The parts of a multipart/form-data body: fields into `params`, files returned by part
    name as python-telegram-bot's RequestData has them (file name, bytes, MIME type)."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    )
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(content, bytes):
            continue
        filename = part.get_filename()
        if filename is None:
            params[name] = content.decode("utf-8")
        else:
            files[name] = (filename, content, part.get_content_type())
    return files
