"""Settings: one object read from the environment (and `.env` when present).

A missing or malformed value stops start-up with one line that names the variable and says
what to do. The token is a SecretStr, so it never shows in a repr or a log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What a Bot API token looks like: the bot id, a colon, a secret. One definition, used to check
# the setting and (in bot.logs) to redact any token-shaped string from logs.
TOKEN_PATTERN = re.compile(r"\d{3,15}:[A-Za-z0-9_-]{20,}")


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

    @field_validator("bot_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

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
            name = field if field.startswith("TELEGRAM_") else f"STRETCHBOT_{field.upper()}"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("; ".join(lines)) from None
