"""Reminders: set by buttons or text, sent on time in the user's own time zone, snoozed, skipped.

Each reminder is a row (local time, days, next due time in UTC, an optional snooze) in the same
database as everything else, so the timer loop re-arms them at start-up by reading the rows.
The time arithmetic (parsing, next due time across daylight-saving changes, time-zone lookup)
is pure and lives in bot.core.times; every sentence comes from content/.

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

from bot.core.callbacks import Action, Button
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.recurrence import late_policy, next_due
from bot.core.times import (
    EVERY_DAY,
    WEEKDAYS,
    Days,
    DaysParseError,
    RemindOff,
    RemindRequest,
    TimeParseError,
    format_days_key,
    parse_days_key,
    parse_remind_args,
    parse_time,
)
from bot.core.timezones import TimezoneFound, find_timezone, utc_offset_label
from bot.runtime.clock import Clock
from bot.runtime.coach import ChatUnreachable, Outbox, OutboxUnavailable
from bot.storage import ReminderRow, Store

log = logging.getLogger(__name__)

# How many reminders are sent at once; AIORateLimiter keeps the pace within Telegram's limits.
# Few, so a hold's messages wait behind at most a handful of reminders in the rate limiter.
SEND_CONCURRENCY = 8
# A reminder whose send failed (Telegram away) is tried again this often (real seconds), until
# it is later than the grace period.
RETRY_SECONDS = 60.0
# A typed answer (a time, a time zone) is waited for this long (real seconds), then text is
# read as usual again.
WAIT_SECONDS = 600.0


@dataclass(frozen=True)
class Draft:
    """A reminder being set up with buttons, or a typed answer the bot waits for."""

    waiting_for: str | None = None  # "time" | "timezone" | None
    time: str | None = None  # "HH:MM"
    days: tuple[int, ...] = ()
    since: float = 0.0  # when the bot began to wait for a typed answer

    @staticmethod
    def load(raw: str | None) -> Draft:
        if not raw:
            return Draft()
        data = json.loads(raw)
        return Draft(
            data.get("waiting_for"),
            data.get("time"),
            tuple(data.get("days", ())),
            float(data.get("since", 0.0)),
        )

    def dump(self) -> str | None:
        if self == Draft():
            return None
        return json.dumps(
            {
                "waiting_for": self.waiting_for,
                "time": self.time,
                "days": self.days,
                "since": self.since,
            }
        )


@dataclass(frozen=True)
class PressResult:
    toast: str | None = None
    keep_buttons: bool = False  # the pressed message was redrawn with new buttons


_EPOCH = datetime.fromtimestamp(0, UTC)


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _time_arg(arg: str) -> time | None:
    """A time from callback data ("0730"), or None for anything else."""
    if len(arg) != 4 or not arg.isdigit() or int(arg[:2]) > 23 or int(arg[2:]) > 59:
        return None
    return time(int(arg[:2]), int(arg[2:]))


def _latest_due(local: time, days: Days, zone: ZoneInfo, now: datetime, since: float) -> datetime:
    """The latest time at or before `now` the reminder was due (at least `since`, its oldest)."""
    latest = datetime.fromtimestamp(since, UTC)
    # Step from a week back at most: the occurrences before that are older still.
    cursor = max(latest, now - timedelta(days=8))
    while (following := next_due(local, days, zone, cursor)) <= now:
        latest = cursor = following
    return latest


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

    def _waiting(self, what: str) -> Draft:
        return Draft(waiting_for=what, since=self.clock.now())

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
        await self._save_draft(chat_id, Draft())
        if not args:
            if await self._room_for_one_more(chat_id, texts):
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
        now = self._now()
        for i, row in enumerate(rows):
            days = self._days_words(texts, row.days)
            due = datetime.fromtimestamp(row.due_at, UTC)
            if due < now:  # paused while the user had blocked the bot: from now on
                due = next_due(parse_time(row.local_time), parse_days_key(row.days), zone, now)
            lines.append(
                texts.reminders.list_item.format(
                    time=row.local_time, days=days, next=self._when(texts, due, zone)
                )
            )
            label = texts.reminders.buttons.delete.format(time=row.local_time, days=days)
            buttons.append(Button(label, Action.REMIND_DELETE, str(row.id), row=i))
        if (await self.store.load(chat_id)).reminders_paused:
            lines += ["", texts.reminders.paused]
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
        await self._save_draft(chat_id, self._waiting("timezone"))

    # -- typed answers -----------------------------------------------------------------------

    async def text(self, chat_id: int, text: str, locale: str | None) -> bool:
        """A typed answer the desk was waiting for (a time, a time zone); False if none."""
        draft = await self._draft(chat_id)
        if draft.waiting_for is None:
            return False
        if self.clock.now() - draft.since > WAIT_SECONDS:
            await self._save_draft(chat_id, replace(draft, waiting_for=None))
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
            await self._save_draft(chat_id, Draft())
            if isinstance(request, RemindRequest):
                await self._create(chat_id, request.time, request.days, texts)
            else:  # "off", "stop": the user changed their mind
                await self._say(chat_id, texts.reminders.not_set)
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
                await self._save_draft(chat_id, self._waiting("time"))
                await self._say(chat_id, texts.reminders.ask_custom_time)
            case Action.REMIND_TIME | Action.REMIND_ADD if (chosen := _time_arg(arg)) is not None:
                if action == Action.REMIND_ADD:
                    await self._create(chat_id, chosen, EVERY_DAY, texts)
                elif await self._room_for_one_more(chat_id, texts):
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
        """Days for the time the pressed message shows (its buttons carry that time)."""
        choice, _, hhmm = arg.rpartition(".") if "." in arg else ("", "", arg)
        chosen = _time_arg(hhmm)
        if chosen is None:
            return PressResult(texts.replies.stale_button)
        draft = await self._draft(chat_id)
        if draft.time != _hhmm(chosen):  # an older set-up's buttons: start from what they show
            draft = Draft(time=_hhmm(chosen))
        if action == Action.REMIND_DAYS and choice in ("every_day", "weekdays"):
            await self._save_draft(chat_id, Draft())
            await self._create(
                chat_id, chosen, EVERY_DAY if choice == "every_day" else WEEKDAYS, texts
            )
            return PressResult()
        if action == Action.REMIND_DAYS_DONE:
            if not draft.days:
                return PressResult(texts.reminders.choose_at_least_one, keep_buttons=True)
            await self._save_draft(chat_id, Draft())
            await self._create(chat_id, chosen, frozenset(draft.days), texts)
            return PressResult()
        days = set(draft.days)
        if action == Action.REMIND_DAY and choice.isdigit() and int(choice) < 7:
            days ^= {int(choice)}
        draft = replace(draft, days=tuple(sorted(days)))
        await self._save_draft(chat_id, draft)
        text = texts.reminders.choose_days.format(time=draft.time)
        buttons = self._day_buttons(texts, _hhmm(chosen), frozenset(draft.days))
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
            if message_id is not None:  # an older listing: show what there is now
                text, buttons = await self._listing(chat_id, texts)
                await self.outbox.edit(chat_id, message_id, text, buttons)
            return PressResult(texts.reminders.gone, keep_buttons=message_id is not None)
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
        now = self._now()
        if action == Action.SNOOZE:
            if not minutes.isdigit() or int(minutes) not in self.spec.snooze_minutes:
                return PressResult(texts.replies.stale_button)
            snooze_at = now.timestamp() + int(minutes) * 60 / self.speed
            await self.store.update_reminder(row, next_due=row.next_due, snooze_at=snooze_at)
            self.timers_changed()
            at = datetime.fromtimestamp(snooze_at, UTC).astimezone(zone)
            await self._say(chat_id, texts.reminders.snoozed.format(time=at.strftime("%H:%M")))
            return PressResult()
        if minutes:
            return PressResult(texts.replies.stale_button)
        # Skip today: no snooze, and if this reminder is still to come today, not that either.
        following = datetime.fromtimestamp(row.next_due, UTC)
        if following.astimezone(zone).date() == now.astimezone(zone).date():
            following = next_due(
                parse_time(row.local_time), parse_days_key(row.days), zone, following
            )
        await self.store.update_reminder(row, next_due=following.timestamp(), snooze_at=None)
        self.timers_changed()
        await self._say(
            chat_id, texts.reminders.skipped.format(next=self._when(texts, following, zone))
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
        arg = hhmm.replace(":", "")
        await self._say(
            chat_id,
            texts.reminders.ask_days.format(time=hhmm),
            Button(b.every_day, Action.REMIND_DAYS, f"every_day.{arg}", row=0),
            Button(b.weekdays, Action.REMIND_DAYS, f"weekdays.{arg}", row=0),
            Button(b.choose_days, Action.REMIND_DAYS, f"choose.{arg}", row=1),
        )

    def _day_buttons(self, texts: Texts, hhmm: str, chosen: Days) -> tuple[Button, ...]:
        b = texts.reminders.buttons
        names = texts.reminders.days.names
        arg = hhmm.replace(":", "")
        days = [
            Button(
                b.day_selected.format(day=names[d]) if d in chosen else names[d],
                Action.REMIND_DAY,
                f"{d}.{arg}",
                row=d // 4,
            )
            for d in range(7)
        ]
        return (*days, Button(b.done, Action.REMIND_DAYS_DONE, arg, row=2))

    async def _room_for_one_more(self, chat_id: int, texts: Texts) -> bool:
        """Whether the user may add a reminder; if not, says so before any set-up starts."""
        if len(await self.store.reminders(chat_id)) < self.spec.max_per_user:
            return True
        await self._say(chat_id, texts.reminders.too_many.format(max=self.spec.max_per_user))
        return False

    async def _bad_time(self, chat_id: int, texts: Texts, exc: TimeParseError) -> None:
        r = texts.reminders
        reply = r.ambiguous_time if exc.reason == "ambiguous_hour" else r.bad_time
        await self._say(chat_id, reply.format(text=exc.text.strip() or "…"))

    async def _create(self, chat_id: int, at: time, days: Days, texts: Texts) -> None:
        existing = await self.store.reminders(chat_id)
        key, hhmm = format_days_key(days), _hhmm(at)
        words = self._days_words(texts, key)
        for r in existing:  # the same time on a day both share would come twice
            if r.local_time == hhmm and parse_days_key(r.days) & days:
                days_words = self._days_words(texts, r.days)
                await self._say(
                    chat_id, texts.reminders.duplicate.format(time=hhmm, days=days_words)
                )
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
        text = texts.reminders.set.format(time=hhmm, days=words, next=when)
        if (await self.store.load(chat_id)).reminders_paused:
            text += "\n\n" + texts.reminders.paused
        await self._say(chat_id, text)
        if not chosen and not existing:
            local_now = now.astimezone(zone).strftime("%H:%M")
            await self._say(
                chat_id, texts.reminders.assumed_timezone.format(zone=zone.key, now=local_now)
            )
            await self._save_draft(chat_id, self._waiting("timezone"))

    async def _set_timezone_from(self, chat_id: int, query: str, texts: Texts) -> None:
        match = find_timezone(query, at=self._now())
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
        await self._save_draft(chat_id, self._waiting("timezone"))
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
        zone, chosen = await self._zone(chat_id)
        if not chosen:  # the time of day here is unknown: let the user pick a local time
            buttons = [
                Button(t, Action.REMIND_ADD, t.replace(":", ""), row=i // 3)
                for i, t in enumerate(self.spec.time_choices)
            ]
            await self._say(chat_id, texts.reminders.offer_daily_pick, *buttons)
            return
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
        local, days = parse_time(row.local_time), parse_days_key(row.days)
        send_for: datetime | None = None  # the due time this send answers
        snooze_at = row.snooze_at
        if snooze_at is not None and snooze_at <= now.timestamp():
            snooze_at = None
            send_for = datetime.fromtimestamp(row.retry_of or row.snooze_at or 0, UTC)
        following = row.next_due
        if row.next_due <= now.timestamp():
            # After a long downtime judge the latest missed time, not the oldest.
            send_for = max(send_for or _EPOCH, _latest_due(local, days, zone, now, row.next_due))
            following = next_due(local, days, zone, now).timestamp()
        if send_for is not None and late_policy(send_for, now, self.grace) == "skip":
            log.info("reminder %s is %s late; skipped", row.id, now - send_for)
            send_for = None
        # Claim the row before sending: a reminder is never sent twice, even by two processes.
        if not await self.store.update_reminder(row, next_due=following, snooze_at=snooze_at):
            return
        if send_for is None:
            return
        claimed = replace(row, next_due=following, snooze_at=snooze_at, retry_of=None)
        try:
            await self._send_reminder(row, zone, now)
        except asyncio.CancelledError:
            # Stopped before it went out: give the claim back, so the restart sends it.
            await self.store.update_reminder(
                claimed, next_due=row.next_due, snooze_at=row.snooze_at, retry_of=row.retry_of
            )
            raise
        except OutboxUnavailable:
            retry_at = now.timestamp() + RETRY_SECONDS
            if late_policy(send_for, datetime.fromtimestamp(retry_at, UTC), self.grace) == "send":
                log.warning("reminder %s: Telegram unavailable; trying again", row.id)
                await self.store.update_reminder(
                    claimed, next_due=following, snooze_at=retry_at, retry_of=send_for.timestamp()
                )
                self.timers_changed()
            else:
                log.warning("reminder %s: Telegram unavailable past its grace; dropped", row.id)

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
