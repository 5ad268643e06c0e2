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

TOKEN_SHAPE = re.compile(r"^\d{3,15}:[A-Za-z0-9_-]{20,}$")


class ConfigError(Exception):
    """A setting that cannot be used; the message names the variable and what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    stretchbot_database: Path = Path("data/stretchbot.sqlite3")
    stretchbot_content_dir: Path | None = None
    stretchbot_speed: float = Field(default=1.0, gt=0, le=10_000)
    stretchbot_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    stretchbot_default_timezone: str = "UTC"
    stretchbot_reminder_grace_minutes: float = Field(default=15, ge=0, le=24 * 60)

    @field_validator("stretchbot_default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone; use a name like UTC or Europe/Berlin"
            ) from None
        return value

    @field_validator("stretchbot_log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def require_token(self) -> str:
        if self.telegram_bot_token is None:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: talk to @BotFather on Telegram (/newbot), then put "
                "TELEGRAM_BOT_TOKEN=<the token> in .env (see .env.example) or the environment. "
                "To try the bot without a token: stretchbot console"
            )
        token = self.telegram_bot_token.get_secret_value().strip()
        if not TOKEN_SHAPE.match(token):
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
            name = str(err["loc"][0]).upper() if err["loc"] else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("; ".join(lines)) from None
