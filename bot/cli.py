"""The command line: `stretchbot run | serve | set-webhook | delete-webhook | console |
check-content`.

Operator-facing messages (this file's prints) are in English here; everything a Telegram user
reads is in content/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, load_settings
from bot.core.content import DEFAULT_LOCALE, Content, ContentError, load_content, medical_texts
from bot.core.plan import compile_plan
from bot.logs import RedactingFilter, setup_logging
from bot.media.pictures import undrawable
from bot.storage import is_postgres, open_store

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The bot could not start for a reason outside its configuration (exit status 1)."""


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def outline(content: Content) -> str:
    """The routine as a physiotherapist checks it: order, texts' titles and durations."""
    plan = compile_plan(content)
    en = content.texts("en")
    safety = content.routine.safety
    lines = [
        f"Content OK: {content.source_dir}",
        f"  languages: {', '.join(content.locales)} (English is the fallback)",
        *(f"    {line}" for line in languages(content)),
        f"  disclaimer version: {content.disclaimer_version()} (changes when its text changes)",
        "",
        "1. Disclaimer: accept or decline",
        f"2. Safety check: {len(safety.questions)} yes/no warning signs, then a tick-list of "
        f"{len(safety.conditions)} conditions (in full every {safety.recheck_days} days, "
        "otherwise 'anything new?')",
        f"3. Warm-up check; the guided warm-up lasts {_duration(plan.warm_up_seconds)}, "
        f"up to {safety.warm_up_rounds} rounds",
    ]
    total = 0.0
    for stretch in plan.stretches:
        exercise = en.exercises[stretch.exercise_id]
        spec = next(e for e in content.routine.exercises if e.id == stretch.exercise_id)
        cues = ", ".join(
            f"{c.text_key} at {c.offset:g} s" for c in plan.cues_for(stretch.hold_seconds)
        )
        lines.append(
            f"{stretch.index + 4}. {exercise.name} / {exercise.sides[stretch.side].title}: "
            f"hold {stretch.hold_seconds} s (range {spec.hold.min_seconds}-"
            f"{spec.hold.max_seconds} s); cues: {cues or 'none'}"
        )
        total += stretch.hold_seconds
        if stretch.index + 1 < len(plan.stretches) and plan.rest_seconds:
            lines.append(f"   rest {plan.rest_seconds} s")
            total += plan.rest_seconds
    lines.append(f"{len(plan.stretches) + 4}. Done: summary")
    lines.append("")
    lines.append(
        f"Holds and rests: {_duration(total)}; with the guided warm-up: "
        f"{_duration(total + plan.warm_up_seconds)} (plus the time to get into position)"
    )
    return "\n".join(lines)


def languages(content: Content) -> list[str]:
    """How many of English's keys each language says itself, what it leaves to English, and
    what a translator should look at (a placeholder in one language only, other sources)."""
    lines = []
    for locale in sorted(content.locales, key=lambda locale: locale != DEFAULT_LOCALE):
        coverage = content.coverage.get(locale)
        if coverage is None:
            continue
        if locale == DEFAULT_LOCALE:
            lines.append(f"{locale}: {coverage.keys} keys")
            lines += [f"  warning: {warning}" for warning in warnings(content, locale)]
            continue
        lines.append(f"{locale}: {coverage.translated} of {coverage.keys} keys")
        lines += [f"  warning: {warning}" for warning in warnings(content, locale)]
        if coverage.missing:
            lines.append(f"  missing from {locale}.yaml (English is used):")
            lines += [f"    {path}" for path in coverage.missing]
    return lines


def warnings(content: Content, locale: str) -> list[str]:
    """What a translator should look at in one language file: a placeholder in one language
    only, other sources than English's, a label the pictures cannot draw."""
    coverage = content.coverage.get(locale)
    found = list(coverage.warnings) if coverage else []
    file = content.source_dir / f"{locale}.yaml"
    return found + [f"{file}: {problem}" for problem in undrawable(content.texts(locale))]


def medical_review(content: Content, locale: str = "en") -> str:
    """Every text with medical meaning in one language, in file order, with its sources."""
    texts = content.texts(locale)
    lines = [
        f"For a clinician's review: every medical text in {locale}.yaml with its sources",
        f"(safety texts version {content.safety_version()}; changing one asks every user the "
        "safety check again)",
    ]
    for path, medical in medical_texts(texts):
        lines += ["", f"{path}  [{', '.join(medical.source)}]"]
        lines += [f"    {line}" if line else "" for line in medical.text.splitlines()]
    return "\n".join(lines)


def clinical_review(content: Content, locale: str = "en") -> str:
    """Every text with medical meaning, in file order, with its sources: for a clinician."""
    lines = [medical_review(content, locale)]
    rules = content.routine.safety
    lines += ["", "What each answer leads to (routine.yaml safety):"]
    for question in rules.questions:
        lines.append(f"  Yes to {question.id}: safety.outcomes.{question.outcome}; no routine")
    for condition in rules.conditions:
        effects = []
        if condition.leaves_out:
            effects.append(f"leaves out {', '.join(condition.leaves_out)}")
        if condition.no_heat_hours:
            effects.append(f"no heat in the warm-up for {condition.no_heat_hours} h")
        lines.append(f"  Tick {condition.id}: its notice; {'; '.join(effects) or 'user decides'}")
    lines += ["", "Sources (content/sources.yaml):"]
    for name, source in content.sources.items():
        lines.append(
            f"  {name}: {source.title}, {source.publisher}. {source.url} (read {source.read})"
        )
    lines += ["", "Help numbers by country (content/numbers.yaml):"]
    for code, entry in content.numbers.items():
        urgent = f", {entry.urgent.name} {entry.urgent.number}" if entry.urgent else ""
        lines.append(f"  {code}: emergency {entry.emergency}{urgent} [{', '.join(entry.source)}]")
    return "\n".join(lines)


def _settings_and_content(args: argparse.Namespace) -> tuple[Settings, Content]:
    overrides: dict[str, object] = {}
    if getattr(args, "speed", None) is not None:
        overrides["speed"] = args.speed
    if getattr(args, "database", None) is not None:
        overrides["database"] = args.database
    settings = load_settings(**overrides)
    content = load_content(settings.content_dir)
    return settings, content


@contextlib.contextmanager
def _bot_api_errors(settings: Settings) -> Iterator[None]:
    """A token the Bot API server refuses, or a server out of reach: one line each
    (python-telegram-bot's message quotes the token; ours does not)."""
    from telegram.error import InvalidToken, NetworkError

    try:
        yield
    except InvalidToken:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN was rejected by the Bot API server: check it with @BotFather "
            "(/token) and that TELEGRAM_BASE_URL points at the right server"
        ) from None
    except NetworkError as exc:
        raise StartupError(
            f"cannot reach the Bot API at {settings.base_url} ({exc.message}): "
            "check the network, or TELEGRAM_BASE_URL"
        ) from None


def cmd_run(args: argparse.Namespace) -> int:
    from bot.telegram.app import StretchBot

    settings, content = _settings_and_content(args)
    token = settings.require_token()
    setup_logging(
        settings.log_level,
        secrets=(token, *settings.database_secrets()),
        log_format=settings.log_format,
    )
    _prepare(settings)
    with _bot_api_errors(settings):
        bot = StretchBot(settings, content, token=token)
        bot.run_polling()
        if bot.webhook_set_to is not None or bot.handlers.webhook_conflict:
            raise StartupError(
                "a webhook is set for this bot, so Telegram refuses polling (409 Conflict): "
                "run `stretchbot delete-webhook` first to poll with `stretchbot run`, or serve "
                "the webhook with `stretchbot serve`"
            )
        if bot.handlers.conflict:
            raise StartupError(
                "another instance of the bot is polling with this token (Telegram answered 409 "
                "Conflict): stopped, so the two do not fight over updates; run only one"
            )
    return 0


def _prepare(settings: Settings) -> None:
    check_database(settings.database)
    if settings.speed != 1:
        log.warning(
            "STRETCHBOT_SPEED is %g: every duration is shortened and countdown edits come "
            "faster than Telegram allows; use it for demos and tests only",
            settings.speed,
        )


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.telegram.app import StretchBot
    from bot.telegram.webhook import serve

    settings, content = _settings_and_content(args)
    token = settings.require_token()
    _, secret = settings.require_webhook()
    setup_logging(
        settings.log_level,
        secrets=(token, secret, *settings.database_secrets()),
        log_format=settings.log_format,
    )
    _prepare(settings)
    try:
        with _bot_api_errors(settings):
            bot = StretchBot(settings, content, token=token, webhook=True)
            asyncio.run(
                serve(
                    bot,
                    host=settings.listen_host,
                    port=settings.listen_port,
                    path=settings.webhook_path,
                    secret=secret,
                )
            )
    except OSError as exc:
        raise StartupError(f"STRETCHBOT_LISTEN={settings.listen}: {exc}") from None
    return 0


def _webhook_call(settings: Settings, token: str, *, set_to: tuple[str, str] | None) -> str:
    """Set the webhook (`set_to`: its URL and secret) or delete it; then what Telegram says
    about it now, in a few lines (no secret)."""
    from telegram import Bot, Update
    from telegram.error import InvalidToken, NetworkError, TelegramError

    async def call() -> list[str]:
        bot = Bot(token, base_url=settings.base_url, base_file_url=settings.base_file_url)
        async with bot:
            if set_to is not None:
                url, secret = set_to
                # Never drops what waits at Telegram: the new endpoint gets it all.
                await bot.set_webhook(
                    url=url,
                    secret_token=secret,
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,
                )
                done = "webhook set"
            else:
                await bot.delete_webhook(drop_pending_updates=False)
                done = "webhook deleted (updates wait for `stretchbot run`)"
            info = await bot.get_webhook_info()
        error = info.last_error_message or "none"
        if info.last_error_date is not None:
            error += f" (at {info.last_error_date.isoformat()})"
        return [
            done,
            f"  url: {info.url or '(none: the bot polls)'}",
            f"  pending updates: {info.pending_update_count}",
            f"  last error: {error}",
        ]

    try:
        lines = asyncio.run(call())
    except InvalidToken:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN was rejected by the Bot API server: check it with @BotFather"
        ) from None
    except NetworkError as exc:
        raise StartupError(
            f"cannot reach the Bot API at {settings.base_url} ({exc.message})"
        ) from None
    except TelegramError as exc:
        raise StartupError(f"Telegram refused: {exc.message}") from None
    redactor = RedactingFilter((token, *(set_to[1:] if set_to else ())))
    return redactor.redact("\n".join(lines))


def cmd_set_webhook(args: argparse.Namespace) -> int:
    settings = load_settings()
    token = settings.require_token()
    url, secret = settings.require_webhook()
    print(_webhook_call(settings, token, set_to=(url, secret)))
    return 0


def cmd_delete_webhook(args: argparse.Namespace) -> int:
    settings = load_settings()
    print(_webhook_call(settings, settings.require_token(), set_to=None))
    return 0


def check_database(database: str) -> None:
    """Open, migrate and try a write before anything starts: a corrupt, read-only, unreachable
    or newer database is one line and a non-zero exit, not a traceback and a process that
    hangs."""

    async def check() -> None:
        store = open_store(database)
        try:
            await store.open()
            async with store.write():
                pass
        finally:
            await store.close()

    _on_database(database, check)


def _on_database(database: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `work` on the database; its failure is one line (without a password)."""
    import sqlite3

    from bot.storage import StoreUnavailable

    errors: tuple[type[Exception], ...] = (sqlite3.Error, StoreUnavailable, RuntimeError, OSError)
    if is_postgres(database):
        import psycopg

        errors += (psycopg.Error,)
    try:
        asyncio.run(work())
    except errors as exc:
        raise StartupError(
            f"the database {_shown(database)} cannot be used: {_redact(str(exc), database)}"
        ) from None


def _shown(database: str) -> str:
    """The database setting without a password."""
    if not is_postgres(database):
        return database
    from bot.storage.postgres import PostgresStore

    return PostgresStore(database).where


def _redact(text: str, database: str) -> str:
    return text.replace(database, _shown(database)) if is_postgres(database) else text


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the database's schema up to this release (under an advisory lock on PostgreSQL,
    so two replicas starting together never migrate twice); releases only add."""
    settings = load_settings()
    setup_logging(settings.log_level)
    done: list[str] = []

    async def migrate() -> None:
        store = open_store(settings.database)
        try:
            await store.open()  # opening migrates
            done.append(f"{_shown(settings.database)}: schema up to date")
        finally:
            await store.close()

    _on_database(settings.database, migrate)
    print(done[0])
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from bot.devtools.console import run_console

    if args.database is None:
        args.database = Path("data/console.sqlite3")
    settings, content = _settings_and_content(args)
    setup_logging("WARNING")
    check_database(settings.database)
    return asyncio.run(run_console(settings, content))


def cmd_check_content(args: argparse.Namespace) -> int:
    content = load_content(args.directory)
    print(outline(content))
    print()
    print(clinical_review(content))
    for locale in content.locales:
        if locale != DEFAULT_LOCALE:
            print()
            print(medical_review(content, locale))
    gaps = [
        locale
        for locale, coverage in content.coverage.items()
        if coverage.missing or warnings(content, locale)
    ]
    if args.strict and gaps:
        print(
            f"stretchbot: --strict: {len(gaps)} language(s) leave keys to English or have "
            "warnings (see the top)",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stretchbot", description="Stretch Coach, a Telegram stretching bot."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot on Telegram (needs TELEGRAM_BOT_TOKEN)")
    run.set_defaults(func=cmd_run)
    serve = sub.add_parser(
        "serve",
        help="run the bot in webhook mode: Telegram posts updates to TELEGRAM_WEBHOOK_URL "
        "(needs TELEGRAM_WEBHOOK_SECRET); /healthz, /readyz and /metrics beside it",
    )
    serve.set_defaults(func=cmd_serve)
    set_webhook = sub.add_parser(
        "set-webhook",
        help="tell Telegram to post updates to TELEGRAM_WEBHOOK_URL (pending ones are kept)",
    )
    set_webhook.set_defaults(func=cmd_set_webhook)
    delete_webhook = sub.add_parser(
        "delete-webhook", help="stop the webhook, to poll with `run` (pending updates are kept)"
    )
    delete_webhook.set_defaults(func=cmd_delete_webhook)
    console = sub.add_parser("console", help="try the bot in this terminal: no token, no network")
    console.add_argument(
        "--speed", type=float, help="multiply every duration's pace (10: a 30 s hold lasts 3 s)"
    )
    console.add_argument(
        "--database", type=Path, help="the console's own database (default data/console.sqlite3)"
    )
    console.set_defaults(func=cmd_console)
    check = sub.add_parser(
        "check-content",
        help="validate a content folder; print the routine and every medical text with its source",
    )
    check.add_argument("directory", nargs="?", type=Path, help="default: the bundled content/")
    check.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a language leaves a key to English or has a warning",
    )
    check.set_defaults(func=cmd_check_content)
    migrate = sub.add_parser(
        "migrate", help="bring the database's schema up to this release (SQLite or PostgreSQL)"
    )
    migrate.set_defaults(func=cmd_migrate)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"stretchbot: {exc}", file=sys.stderr)
        return 2
    except ContentError as exc:
        print(
            f"stretchbot: the content folder has {len(exc.problems)} problem(s):", file=sys.stderr
        )
        print(exc, file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"stretchbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
