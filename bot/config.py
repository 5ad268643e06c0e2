"""Settings: one object read from the environment (and `.env` when present).

A missing or malformed value stops start-up with one line that names the variable and says
what to do. The token is a SecretStr, so it never shows in a repr or a log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What a Bot API token looks like: the bot id, a colon, a secret. One definition, used to check
# the setting and (in bot.logs) to redact any token-shaped string from logs.
TOKEN_PATTERN = re.compile(r"\d{3,15}:[A-Za-z0-9_-]{20,}")
# What Telegram accepts as a webhook's secret_token (setWebhook): 1-256 of A-Z a-z 0-9 _ -.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(Exception):
    """A setting that cannot be used; the message names the variable and what to do."""


class Settings(BaseSettings):
    """Each field is read from STRETCHBOT_<NAME>, except Telegram's own (TELEGRAM_<NAME>)."""

    model_config = SettingsConfigDict(
        env_prefix="STRETCHBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    bot_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    base_url: str = Field(
        default="https://api.telegram.org/bot", validation_alias="TELEGRAM_BASE_URL"
    )
    base_file_url: str = Field(
        default="https://api.telegram.org/file/bot", validation_alias="TELEGRAM_BASE_FILE_URL"
    )
    # A SQLite file (a path, or sqlite:///path), or postgresql://user:password@host/db for
    # several replicas on one database.
    database: str = "data/stretchbot.sqlite3"
    # How many replicas share the bot's token: each keeps to 1/N of Telegram's rate per bot.
    replicas: int = Field(default=1, ge=1, le=64)
    # PostgreSQL: how long a replica's hold on a chat lasts unless renewed (a dead replica's
    # chats are taken over this long after it died).
    lease_seconds: float = Field(default=15.0, ge=1.0, le=600.0)
    content_dir: Path | None = None
    # Below 0.1 a 30 s hold would last more than five minutes: a typo, not a setting.
    speed: float = Field(default=1.0, ge=0.1, le=10_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    default_timezone: str = "UTC"
    reminder_grace_minutes: float = Field(default=15, ge=0, le=24 * 60)
    # The data of a user who blocked the bot is deleted after this many days (see /privacy).
    inactive_days: int = Field(default=365, ge=1, le=3650)
    # Webhook mode (`stretchbot serve`): the public URL Telegram posts updates to, and the
    # secret Telegram sends back with each of them (X-Telegram-Bot-Api-Secret-Token).
    webhook_url: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    # Where `serve` listens, host:port (a reverse proxy terminates TLS in front of it).
    listen: str = "127.0.0.1:8080"
    log_format: Literal["text", "json"] = "text"
    # Seconds between SIGTERM (/readyz turns 503) and the server refusing new connections.
    drain_seconds: float = Field(default=5.0, ge=0, le=600)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone; use a name like UTC or Europe/Berlin"
            ) from None
        return value

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: object) -> object:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: give a file path, or postgresql://user@host/db")
        if isinstance(value, str) and "://" in value:
            scheme = value.split("://", 1)[0]
            if scheme not in ("postgresql", "postgres", "sqlite"):
                raise ValueError(
                    f"{scheme}:// is not a database this bot knows: use a file path, "
                    "sqlite:///path or postgresql://user@host/db"
                )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower().strip() if isinstance(value, str) else value

    @field_validator("bot_token", "webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never quotes the value: it is a secret.
        if value is not None and not WEBHOOK_SECRET_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError(
                "Telegram accepts 1-256 characters, only A-Z, a-z, 0-9, _ and - "
                "(for one: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(  # not quoted: some put the token in the path
                "not a URL; use the public https address Telegram posts to, "
                "like https://bot.example.org/telegram"
            )
        return value.strip()

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, colon, port = value.strip().rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"{value!r} is not host:port; use e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
        return value.strip()

    @property
    def listen_host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def listen_port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def webhook_path(self) -> str:
        """The path part of TELEGRAM_WEBHOOK_URL, where `serve` takes Telegram's posts."""
        return urlsplit(self.webhook_url or "").path or "/"

    def require_webhook(self) -> tuple[str, str]:
        """The webhook's URL and secret, for `serve` and `set-webhook`; one line if missing."""
        if self.webhook_secret is None:
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode needs a secret so only "
                "Telegram's posts are taken (1-256 of A-Z a-z 0-9 _ -, e.g. from "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if self.webhook_url is None:
            raise ConfigError(
                "TELEGRAM_WEBHOOK_URL is not set: webhook mode needs the public https URL "
                "Telegram posts updates to, like https://bot.example.org/telegram "
                "(see .env.example); or poll with: stretchbot run"
            )
        return self.webhook_url, self.webhook_secret.get_secret_value()

    def database_secrets(self) -> tuple[str, ...]:
        """The password in a postgresql:// setting, for the logs to redact."""
        if "://" not in self.database:
            return ()
        password = urlsplit(self.database).password
        return (unquote(password),) if password else ()

    def require_token(self) -> str:
        if self.bot_token is None:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: talk to @BotFather on Telegram (/newbot), then put "
                "TELEGRAM_BOT_TOKEN=<the token> in .env (see .env.example) or the environment. "
                "To try the bot without a token: stretchbot console"
            )
        token = self.bot_token.get_secret_value().strip()
        if not TOKEN_PATTERN.fullmatch(token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a token from @BotFather "
                "(digits, a colon, then 35 or so letters, digits, - and _): check for quotes "
                "or spaces"
            )
        return token


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            info = Settings.model_fields.get(field)
            alias = info.validation_alias if info is not None else None
            if isinstance(alias, str):  # given by its field name: named as in the environment
                field = alias
            name = field if field.startswith("TELEGRAM_") else f"STRETCHBOT_{field.upper()}"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("; ".join(lines)) from None
