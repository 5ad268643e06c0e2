"""Reminders: set by buttons or text, sent on time in the user's own time zone, snoozed, skipped.

Each reminder is a row (local time, days, next due time in UTC, an optional snooze) in the same
database as everything else, so the timer loop re-arms them at start-up by reading the rows.
The time arithmetic (parsing, next due time across daylight-saving changes, time-zone lookup)
is pure and lives in bot.schedule; every sentence comes from content/.

Knows nothing of python-telegram-bot: it talks through the same Outbox as the coach.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.callbacks import Action, Button
from bot.clock import Clock
from bot.coach import ChatUnreachable, Outbox
from bot.content import Content, Texts
from bot.schedule import (
    EVERY_DAY,
    WEEKDAYS,
    Days,
    DaysParseError,
    RemindOff,
    RemindRequest,
    TimeParseError,
    TimezoneFound,
    find_timezone,
    format_days_key,
    late_policy,
    next_due,
    parse_days_key,
    parse_remind_args,
    parse_time,
    utc_offset_label,
)
from bot.storage import ReminderRow, Store

log = logging.getLogger(__name__)

# How many reminders are sent at once; AIORateLimiter keeps the pace within Telegram's limits.
SEND_CONCURRENCY = 32


@dataclass(frozen=True)
class Draft:
    """A reminder being set up with buttons, or a typed answer the bot waits for."""

    waiting_for: str | None = None  # "time" | "timezone" | None
    time: str | None = None  # "HH:MM"
    days: tuple[int, ...] = ()

    @staticmethod
    def load(raw: str | None) -> Draft:
        if not raw:
            return Draft()
        data = json.loads(raw)
        return Draft(data.get("waiting_for"), data.get("time"), tuple(data.get("days", ())))

    def dump(self) -> str | None:
        if self == Draft():
            return None
        return json.dumps({"waiting_for": self.waiting_for, "time": self.time, "days": self.days})


@dataclass(frozen=True)
class PressResult:
    toast: str | None = None
    keep_buttons: bool = False  # the pressed message was redrawn with new buttons


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


class ReminderDesk:
    def __init__(
        self,
        content: Content,
        store: Store,
        clock: Clock,
        outbox: Outbox,
        *,
        default_timezone: str,
        grace_minutes: float,
        speed: float,
    ) -> None:
        self.content = content
        self.spec = content.routine.reminders
        self.store = store
        self.clock = clock
        self.outbox = outbox
        self.default_timezone = default_timezone
        self.grace = timedelta(minutes=grace_minutes)
        self.speed = speed
        self.timers_changed: Callable[[], None] = lambda: None

    # -- small helpers ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    async def _texts(self, chat_id: int, locale: str | None) -> Texts:
        if locale is None:
            locale = (await self.store.load(chat_id)).locale
        return self.content.texts(locale)

    async def _zone(self, chat_id: int) -> tuple[ZoneInfo, bool]:
        """The chat's time zone, and whether the user chose it (False: the assumed default)."""
        key, _ = await self.store.chat_settings(chat_id)
        return ZoneInfo(key or self.default_timezone), key is not None

    async def _draft(self, chat_id: int) -> Draft:
        return Draft.load((await self.store.chat_settings(chat_id))[1])

    async def _save_draft(self, chat_id: int, draft: Draft) -> None:
        await self.store.set_draft(chat_id, draft.dump(), self.clock.now())

    def _days_words(self, texts: Texts, key: str) -> str:
        words = texts.reminders.days
        if key in ("every_day", "weekdays", "weekends"):
            return str(getattr(words, key))
        names = ", ".join(words.names[d] for d in sorted(parse_days_key(key)))
        return words.some.format(days=names)

    def _when(self, texts: Texts, at: datetime, zone: ZoneInfo) -> str:
        local = at.astimezone(zone)
        words = texts.reminders.days
        return words.next_format.format(
            weekday=words.names[local.weekday()],
            day=local.day,
            month=words.months[local.month - 1],
            time=local.strftime("%H:%M"),
        )

    async def _say(self, chat_id: int, text: str, *buttons: Button) -> int | None:
        try:
            return await self.outbox.send(chat_id, text, buttons)
        except ChatUnreachable:
            await self.store.set_active(chat_id, False, self.clock.now())
            return None

    # -- commands ----------------------------------------------------------------------------

    async def remind(self, chat_id: int, args: Sequence[str], locale: str | None) -> None:
        """/remind, /remind 07:30, /remind 7pm weekdays, /remind off."""
        texts = await self._texts(chat_id, locale)
        if not args:
            await self._save_draft(chat_id, Draft())
            await self._ask_time(chat_id, texts)
            return
        try:
            request = parse_remind_args(args)
        except TimeParseError as exc:
            await self._bad_time(chat_id, texts, exc)
            return
        except DaysParseError as exc:
            await self._say(chat_id, texts.reminders.bad_days.format(text=exc.text))
            return
        if isinstance(request, RemindOff):
            count = await self.store.delete_reminders(chat_id)
            r = texts.reminders
            await self._say(chat_id, r.all_off.format(count=count) if count else r.none_to_delete)
            self.timers_changed()
            return
        await self._create(chat_id, request.time, request.days, texts)

    async def list_reminders(self, chat_id: int, locale: str | None) -> None:
        """/reminders: each with its next time, and a button to delete it."""
        texts = await self._texts(chat_id, locale)
        text, buttons = await self._listing(chat_id, texts)
        await self._say(chat_id, text, *buttons)

    async def _listing(self, chat_id: int, texts: Texts) -> tuple[str, tuple[Button, ...]]:
        rows = await self.store.reminders(chat_id)
        if not rows:
            return texts.reminders.none, ()
        zone, _ = await self._zone(chat_id)
        lines = [texts.reminders.list_header.format(zone=zone.key)]
        buttons = []
        for i, row in enumerate(rows):
            days = self._days_words(texts, row.days)
            due = datetime.fromtimestamp(row.next_due, UTC)
            lines.append(
                texts.reminders.list_item.format(
                    time=row.local_time, days=days, next=self._when(texts, due, zone)
                )
            )
            label = texts.reminders.buttons.delete.format(time=row.local_time, days=days)
            buttons.append(Button(label, Action.REMIND_DELETE, str(row.id), row=i))
        return "\n".join(lines), tuple(buttons)

    async def timezone(self, chat_id: int, args: Sequence[str], locale: str | None) -> None:
        """/timezone Europe/Berlin, /timezone new york, or /timezone alone to see and change it."""
        texts = await self._texts(chat_id, locale)
        query = " ".join(args).strip()
        if query:
            await self._set_timezone_from(chat_id, query, texts)
            return
        zone, chosen = await self._zone(chat_id)
        if chosen:
            now = self._now()
            await self._say(
                chat_id,
                texts.timezone.current.format(
                    zone=zone.key,
                    now=now.astimezone(zone).strftime("%H:%M"),
                    offset=utc_offset_label(zone, now),
                ),
            )
        else:
            await self._say(chat_id, texts.timezone.ask)
        await self._save_draft(chat_id, Draft(waiting_for="timezone"))

    # -- typed answers -----------------------------------------------------------------------

    async def text(self, chat_id: int, text: str, locale: str | None) -> bool:
        """A typed answer the desk was waiting for (a time, a time zone); False if none."""
        draft = await self._draft(chat_id)
        if draft.waiting_for is None:
            return False
        texts = await self._texts(chat_id, locale)
        if draft.waiting_for == "timezone":
            await self._set_timezone_from(chat_id, text, texts)
            return True
        try:
            chosen = parse_time(text)
        except TimeParseError as exc:
            try:  # a whole "7pm weekdays" is welcome too
                request = parse_remind_args(text.split())
            except (TimeParseError, DaysParseError):
                await self._bad_time(chat_id, texts, exc)
                return True
            if isinstance(request, RemindRequest):
                await self._save_draft(chat_id, Draft())
                await self._create(chat_id, request.time, request.days, texts)
            return True
        await self._save_draft(chat_id, Draft(time=_hhmm(chosen)))
        await self._ask_days(chat_id, _hhmm(chosen), texts)
        return True

    async def forget_pending(self, chat_id: int) -> None:
        """Another command came: stop waiting for a typed time or time zone."""
        draft = await self._draft(chat_id)
        if draft.waiting_for is not None:
            await self._save_draft(chat_id, replace(draft, waiting_for=None))

    # -- buttons -----------------------------------------------------------------------------

    async def press(
        self, chat_id: int, message_id: int | None, action: Action, arg: str, locale: str | None
    ) -> PressResult:
        texts = await self._texts(chat_id, locale)
        match action:
            case Action.REMIND_TIME if arg == "other":
                await self._save_draft(chat_id, Draft(waiting_for="time"))
                await self._say(chat_id, texts.reminders.ask_custom_time)
            case Action.REMIND_TIME | Action.REMIND_ADD if len(arg) == 4 and arg.isdigit():
                chosen = time(int(arg[:2]) % 24, int(arg[2:]) % 60)
                if action == Action.REMIND_ADD:
                    await self._create(chat_id, chosen, EVERY_DAY, texts)
                else:
                    await self._save_draft(chat_id, Draft(time=_hhmm(chosen)))
                    await self._ask_days(chat_id, _hhmm(chosen), texts)
            case Action.REMIND_DAYS | Action.REMIND_DAY | Action.REMIND_DAYS_DONE:
                return await self._press_days(chat_id, message_id, action, arg, texts)
            case Action.REMIND_DELETE:
                return await self._press_delete(chat_id, message_id, arg, texts)
            case Action.SNOOZE | Action.SKIP_TODAY:
                return await self._press_snooze_or_skip(chat_id, action, arg, texts)
            case Action.TIMEZONE:
                await self._set_timezone_from(chat_id, arg, texts)
            case _:
                return PressResult(texts.replies.stale_button)
        return PressResult()

    async def _press_days(
        self, chat_id: int, message_id: int | None, action: Action, arg: str, texts: Texts
    ) -> PressResult:
        draft = await self._draft(chat_id)
        if draft.time is None:  # a days button from an earlier, finished set-up
            await self._ask_time(chat_id, texts)
            return PressResult(texts.replies.stale_button)
        chosen = parse_time(draft.time)
        if action == Action.REMIND_DAYS and arg in ("every_day", "weekdays"):
            await self._save_draft(chat_id, Draft())
            await self._create(
                chat_id, chosen, EVERY_DAY if arg == "every_day" else WEEKDAYS, texts
            )
            return PressResult()
        if action == Action.REMIND_DAYS_DONE:
            if not draft.days:
                return PressResult(texts.reminders.choose_at_least_one, keep_buttons=True)
            await self._save_draft(chat_id, Draft())
            await self._create(chat_id, chosen, frozenset(draft.days), texts)
            return PressResult()
        days = set(draft.days)
        if action == Action.REMIND_DAY and arg.isdigit() and int(arg) < 7:
            days ^= {int(arg)}
        draft = replace(draft, days=tuple(sorted(days)))
        await self._save_draft(chat_id, draft)
        text = texts.reminders.choose_days.format(time=draft.time)
        buttons = self._day_buttons(texts, frozenset(draft.days))
        if message_id is None:
            await self._say(chat_id, text, *buttons)
        else:
            await self.outbox.edit(chat_id, message_id, text, buttons)
        return PressResult(keep_buttons=message_id is not None)

    async def _press_delete(
        self, chat_id: int, message_id: int | None, arg: str, texts: Texts
    ) -> PressResult:
        row = await self.store.reminder(int(arg)) if arg.isdigit() else None
        if row is None or row.chat_id != chat_id:
            return PressResult(texts.reminders.gone)
        await self.store.delete_reminders(chat_id, row.id)
        self.timers_changed()
        days = self._days_words(texts, row.days)
        text, buttons = await self._listing(chat_id, texts)
        if message_id is not None:
            await self.outbox.edit(chat_id, message_id, text, buttons)
        await self._say(chat_id, texts.reminders.deleted.format(time=row.local_time, days=days))
        return PressResult(keep_buttons=message_id is not None)

    async def _press_snooze_or_skip(
        self, chat_id: int, action: Action, arg: str, texts: Texts
    ) -> PressResult:
        reminder_id, _, minutes = arg.partition(".")
        row = await self.store.reminder(int(reminder_id)) if reminder_id.isdigit() else None
        if row is None or row.chat_id != chat_id:
            return PressResult(texts.reminders.gone)
        zone, _ = await self._zone(chat_id)
        if action == Action.SNOOZE and minutes.isdigit():
            snooze_at = self.clock.now() + int(minutes) * 60 / self.speed
            await self.store.update_reminder(row, next_due=row.next_due, snooze_at=snooze_at)
            self.timers_changed()
            at = datetime.fromtimestamp(snooze_at, UTC).astimezone(zone)
            await self._say(chat_id, texts.reminders.snoozed.format(time=at.strftime("%H:%M")))
        else:  # skip today: drop a pending snooze; the next day's reminder stays as it is
            await self.store.update_reminder(row, next_due=row.next_due, snooze_at=None)
            due = datetime.fromtimestamp(row.next_due, UTC)
            await self._say(
                chat_id, texts.reminders.skipped.format(next=self._when(texts, due, zone))
            )
        return PressResult()

    # -- setting up ------------------------------------------------------------------------

    async def _ask_time(self, chat_id: int, texts: Texts) -> None:
        buttons = [
            Button(choice, Action.REMIND_TIME, choice.replace(":", ""), row=i // 3)
            for i, choice in enumerate(self.spec.time_choices)
        ]
        other_row = (len(buttons) + 2) // 3
        buttons.append(
            Button(texts.reminders.buttons.other_time, Action.REMIND_TIME, "other", row=other_row)
        )
        await self._say(chat_id, texts.reminders.ask_time, *buttons)

    async def _ask_days(self, chat_id: int, hhmm: str, texts: Texts) -> None:
        b = texts.reminders.buttons
        await self._say(
            chat_id,
            texts.reminders.ask_days.format(time=hhmm),
            Button(b.every_day, Action.REMIND_DAYS, "every_day", row=0),
            Button(b.weekdays, Action.REMIND_DAYS, "weekdays", row=0),
            Button(b.choose_days, Action.REMIND_DAYS, "choose", row=1),
        )

    def _day_buttons(self, texts: Texts, chosen: Days) -> tuple[Button, ...]:
        b = texts.reminders.buttons
        names = texts.reminders.days.names
        days = [
            Button(
                b.day_selected.format(day=names[d]) if d in chosen else names[d],
                Action.REMIND_DAY,
                str(d),
                row=d // 4,
            )
            for d in range(7)
        ]
        return (*days, Button(b.done, Action.REMIND_DAYS_DONE, row=2))

    async def _bad_time(self, chat_id: int, texts: Texts, exc: TimeParseError) -> None:
        r = texts.reminders
        reply = r.ambiguous_time if exc.reason == "ambiguous_hour" else r.bad_time
        await self._say(chat_id, reply.format(text=exc.text.strip() or "…"))

    async def _create(self, chat_id: int, at: time, days: Days, texts: Texts) -> None:
        existing = await self.store.reminders(chat_id)
        key, hhmm = format_days_key(days), _hhmm(at)
        words = self._days_words(texts, key)
        if any(r.local_time == hhmm and r.days == key for r in existing):
            await self._say(chat_id, texts.reminders.duplicate.format(time=hhmm, days=words))
            return
        if len(existing) >= self.spec.max_per_user:
            await self._say(chat_id, texts.reminders.too_many.format(max=self.spec.max_per_user))
            return
        zone, chosen = await self._zone(chat_id)
        now = self._now()
        due = next_due(at, days, zone, now)
        await self.store.add_reminder(chat_id, hhmm, key, due.timestamp(), now.timestamp())
        self.timers_changed()
        when = self._when(texts, due, zone)
        await self._say(chat_id, texts.reminders.set.format(time=hhmm, days=words, next=when))
        if not chosen and not existing:
            local_now = now.astimezone(zone).strftime("%H:%M")
            await self._say(
                chat_id, texts.reminders.assumed_timezone.format(zone=zone.key, now=local_now)
            )
            await self._save_draft(chat_id, Draft(waiting_for="timezone"))

    async def _set_timezone_from(self, chat_id: int, query: str, texts: Texts) -> None:
        match = find_timezone(query)
        tz = texts.timezone
        if isinstance(match, TimezoneFound):
            await self.store.set_timezone(chat_id, match.key, self.clock.now())
            await self._save_draft(chat_id, Draft())
            await self._reschedule(chat_id, match.zone)
            now = self._now()
            await self._say(
                chat_id,
                tz.set.format(
                    zone=match.key,
                    now=now.astimezone(match.zone).strftime("%H:%M"),
                    offset=utc_offset_label(match.zone, now),
                ),
            )
            return
        await self._save_draft(chat_id, Draft(waiting_for="timezone"))
        shown = query.strip()[:60]
        buttons = [
            Button(key, Action.TIMEZONE, key, row=i) for i, key in enumerate(match.suggestions)
        ]
        if not buttons or match.reason == "empty":
            await self._say(chat_id, tz.unknown.format(query=shown) if shown else tz.ask)
            return
        text = {"ambiguous": tz.ambiguous, "abbreviation": tz.abbreviation}.get(
            match.reason, tz.suggestions
        )
        await self._say(chat_id, text.format(query=shown), *buttons)

    async def _reschedule(self, chat_id: int, zone: ZoneInfo) -> None:
        """A new time zone: every reminder keeps its local time, so its next UTC time moves."""
        now = self._now()
        for row in await self.store.reminders(chat_id):
            due = next_due(parse_time(row.local_time), parse_days_key(row.days), zone, now)
            await self.store.update_reminder(row, next_due=due.timestamp(), snooze_at=row.snooze_at)
        self.timers_changed()

    # -- after the routine, and when a user comes back -------------------------------------------

    async def offer_daily(self, chat_id: int) -> None:
        """After a finished routine: a daily reminder at this time of day, if the user has none."""
        if await self.store.reminders(chat_id):
            return
        texts = await self._texts(chat_id, None)
        zone, _ = await self._zone(chat_id)
        local = self._now().astimezone(zone)
        minutes = round((local.hour * 60 + local.minute) / 5) * 5 % (24 * 60)
        hhmm = f"{minutes // 60:02d}:{minutes % 60:02d}"
        label = texts.reminders.buttons.offer_daily.format(time=hhmm)
        await self._say(
            chat_id,
            texts.reminders.offer_daily.format(time=hhmm),
            Button(label, Action.REMIND_ADD, hhmm.replace(":", "")),
        )

    async def reactivate(self, chat_id: int) -> None:
        """A user who had blocked the bot is back: reminders resume from now on, none replayed."""
        zone, _ = await self._zone(chat_id)
        now = self._now()
        for row in await self.store.reminders(chat_id):
            if row.next_due <= now.timestamp() or row.snooze_at is not None:
                due = next_due(parse_time(row.local_time), parse_days_key(row.days), zone, now)
                await self.store.update_reminder(row, next_due=due.timestamp(), snooze_at=None)
        self.timers_changed()

    # -- the timer source --------------------------------------------------------------------

    async def next_due(self) -> float | None:
        return await self.store.next_reminder_due()

    async def run_due(self) -> int:
        """Send every reminder that is due, earliest first; schedule each one's next time."""
        rows = await self.store.due_reminders(self.clock.now())
        if not rows:
            return 0
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def one(row: ReminderRow) -> None:
            async with gate:
                try:
                    await self._fire(row)
                except Exception:
                    log.exception("reminder %s of chat %s failed", row.id, row.chat_id)

        await asyncio.gather(*(one(row) for row in rows))
        return len(rows)

    async def _fire(self, row: ReminderRow) -> None:
        now = self._now()
        zone, _ = await self._zone(row.chat_id)
        send = row.snooze_at is not None and row.snooze_at <= now.timestamp()
        following = row.next_due
        if row.next_due <= now.timestamp():
            due = datetime.fromtimestamp(row.next_due, UTC)
            if late_policy(due, now, self.grace) == "send":
                send = True
            else:
                log.info("reminder %s was %s late; skipped", row.id, now - due)
            local, days = parse_time(row.local_time), parse_days_key(row.days)
            following = next_due(local, days, zone, now).timestamp()
        snooze_at = (
            None
            if send or row.snooze_at is None or row.snooze_at <= now.timestamp()
            else row.snooze_at
        )
        # Claim the row before sending: a reminder is never sent twice, even by two processes.
        if not await self.store.update_reminder(row, next_due=following, snooze_at=snooze_at):
            return
        if send:
            try:
                await self._send_reminder(row, zone, now)
            except asyncio.CancelledError:
                # Stopped before it went out: give the claim back, so the restart sends it.
                claimed = replace(row, next_due=following, snooze_at=snooze_at)
                await self.store.update_reminder(
                    claimed, next_due=row.next_due, snooze_at=row.snooze_at
                )
                raise

    async def _send_reminder(self, row: ReminderRow, zone: ZoneInfo, now: datetime) -> None:
        texts = await self._texts(row.chat_id, None)
        r = texts.reminders
        variant = (row.id + now.astimezone(zone).toordinal()) % len(r.messages)
        snoozes = [
            Button(label.format(minutes=minutes), Action.SNOOZE, f"{row.id}.{minutes}", row=1)
            for label, minutes in zip(r.buttons.snooze, self.spec.snooze_minutes, strict=True)
        ]
        await self._say(
            row.chat_id,
            r.messages[variant],
            Button(r.buttons.start, Action.START_ROUTINE, row=0),
            *snoozes,
            Button(r.buttons.skip_today, Action.SKIP_TODAY, str(row.id), row=2),
        )
