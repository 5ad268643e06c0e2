"""`stretchbot console`: chat with the real bot in a terminal, with no token and no network.

The real Application, handlers, content and a database of its own run on the emulated Bot API
(bot.devtools.emulator) with polling, exactly as on Telegram. Bot messages are printed as they
arrive, inline buttons as numbered choices, countdown edits as they happen. Type text or a
command, or a number to press a button; /quit or Ctrl-D leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.core.content import Content
from bot.devtools.emulator import Event, FakeTelegram, SentMessage
from bot.devtools.factory import emulated_bot
from bot.storage import sqlite_path

CHAT_ID = 1
QUIT = {"/quit", "/exit", "quit", "exit"}


class ConsoleView:
    """Prints what the user would see in the Telegram app."""

    def __init__(self, out: TextIO, pictures: Path) -> None:
        self.out = out
        self.pictures = pictures  # where the pictures and files the bot sends are saved
        self.choices: list[tuple[int, str]] = []  # (message id, callback data), numbered from 1
        self.shown: dict[int, str] = {}  # message id -> the text last printed for it
        self.labels: dict[int, list[str]] = {}  # message id -> the buttons last printed for it

    def __call__(self, event: Event) -> None:
        message = event.message
        if event.kind == "sent" and message is not None:
            self._print_message(message)
        elif event.kind == "edited" and message is not None:
            if self.shown.get(message.message_id) != message.text:  # not just buttons removed
                self.shown[message.message_id] = message.text
                self._line(f"    ↻ {message.text}")
                # A countdown keeps its Stop button through every edit: say so once, not each time.
                self._print_buttons(
                    message, quiet=self._labels(message) == self.labels.get(message.message_id)
                )
            elif message.buttons:  # new buttons on the same text (days ticked, one deleted)
                self._print_buttons(message)
            if not message.buttons:
                self.choices = [c for c in self.choices if c[0] != message.message_id]
        elif event.kind == "callback_answer" and event.text:
            self._line(f"    ({event.text})")

    def _print_message(self, message: SentMessage) -> None:
        self.shown[message.message_id] = message.text
        self._line("")
        if message.photo is not None and message.photo_bytes is not None:
            self.pictures.mkdir(parents=True, exist_ok=True)
            path = self.pictures / f"{message.photo}.png"
            if not path.exists():
                path.write_bytes(message.photo_bytes)
            self._line(f"  [picture: {path}]")
        if message.document is not None and message.document_bytes is not None:
            self.pictures.mkdir(parents=True, exist_ok=True)
            path = self.pictures / f"{message.message_id}-{message.document}"
            path.write_bytes(message.document_bytes)
            self._line(f"  [file: {path}]")
        for line in message.text.splitlines():
            self._line(f"  {line}" if line else "")
        self._print_buttons(message)

    @staticmethod
    def _labels(message: SentMessage) -> list[str]:
        return [b.text for row in message.buttons for b in row if b.callback_data]

    def _print_buttons(self, message: SentMessage, *, quiet: bool = False) -> None:
        """Each keyboard row on one line, every button numbered (`quiet`: shown already)."""
        rows = [[b for b in row if b.callback_data] for row in message.buttons]
        if not any(rows):
            return
        self.choices = [(message.message_id, b.callback_data or "") for row in rows for b in row]
        self.labels[message.message_id] = self._labels(message)
        if quiet:
            return
        number = 0
        for row in rows:
            cells = []
            for button in row:
                number += 1
                cells.append(f"[{number}] {button.text}")
            self._line("   " + "   ".join(cells))

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


async def run_console(
    settings: Settings,
    content: Content,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    server = FakeTelegram()
    server.add_chat(CHAT_ID)  # the user's chat exists, as on Telegram, before they write again
    view = ConsoleView(out, sqlite_path(settings.database).parent / "console-files")
    server.add_listener(view)
    out.write(
        "Stretch Coach console: you are chatting with the real bot on an emulated Telegram.\n"
        f"Speed x{settings.speed:g}, database {settings.database}.\n"
        "Type a message or a command (/start, /routine, /help), a number to press a button, "
        "/quit to leave.\n"
    )
    out.flush()
    # The pictures are drawn at once: the first card comes a few taps after start-up.
    async with emulated_bot(settings, content, server, polling=True, draw_pictures_after=0):
        await _read_loop(server, view, stdin, out)
    return 0


def _lines(stdin: TextIO) -> asyncio.Queue[str]:
    """Lines typed, read by a daemon thread: Ctrl-C leaves at once, not after the next Enter
    (a thread from asyncio's own pool would keep the process waiting in readline)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = stdin.readline()
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the console has closed
                return
            if not line:
                return

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return queue


async def _read_loop(server: FakeTelegram, view: ConsoleView, stdin: TextIO, out: TextIO) -> None:
    typed = _lines(stdin)
    while True:
        line = await typed.get()
        if not line:  # end of input: let the last answers arrive, then leave
            await asyncio.sleep(0.3)
            return
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT:
            return
        if text.isdigit() and view.choices:
            number = int(text)
            if not 1 <= number <= len(view.choices):
                out.write(f"    (choose 1 to {len(view.choices)})\n")
                continue
            message_id, data = view.choices[number - 1]
            with contextlib.suppress(ValueError):
                server.user_presses(CHAT_ID, message_id, data, check_buttons=False)
                continue
        server.user_sends(CHAT_ID, text)
