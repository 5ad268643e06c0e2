"""Logging that never shows the bot token, at any level, in messages or tracebacks.

python-telegram-bot's HTTP client (httpx) logs every request URL at INFO, and the Bot API URL
holds the token; exceptions may quote it too. A filter on the root handler redacts any
token-shaped string and the configured token itself before anything is written.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType

from bot.config import TOKEN_PATTERN

REDACTED = "<redacted-token>"


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: tuple[str, ...] = (), brief_network_errors: bool = False) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)
        self.brief_network_errors = brief_network_errors

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_PATTERN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.brief_network_errors and "Network Retry Loop" in record.getMessage():
            # python-telegram-bot's start-up retries log a full traceback for a refused
            # connection; one line says as much (DEBUG keeps the traceback).
            record.exc_info = None
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for a log collector: time (UTC, ISO 8601), level, logger,
    message, and the traceback when there is one. Runs after the redacting filter, and redacts
    once more what it writes."""

    def __init__(self, redactor: RedactingFilter) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return self.redactor.redact(json.dumps(line, ensure_ascii=False))


def setup_logging(
    level: str, secrets: tuple[str, ...] = (), log_format: str = "text"
) -> RedactingFilter:
    """Log to stderr through the redacting filter, as text or JSON lines (`log_format`);
    quiet httpx's per-request lines."""
    redactor = RedactingFilter(secrets, brief_network_errors=level != "DEBUG")
    handler = logging.StreamHandler()
    handler.addFilter(redactor)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(redactor))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        sys.stderr.write(redactor.redact("".join(traceback.format_exception(kind, exc, tb))))

    sys.excepthook = excepthook
    return redactor
