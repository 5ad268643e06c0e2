"""Reminders as a pure conversation: setting them up, listing, deleting, time zones, snooze.

`ReminderSetup.advance(chat, event, now) -> (chat, effects)`, like the routine: the chat's
reminders, time zone and pending question go in, the new ones and what to show come out, and
the runner stores the difference (a new reminder, one gone, one moved). What a reminder
message looks like and which missed time it answers are here too, for delivery to use.

Knows nothing of Telegram, storage or clocks: `now` is a parameter (epoch seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.callbacks import Action, Button, DaysChoice, DayToggle, Snooze
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.events import Edit, Effect, Keep, Out, Press, Send, Toast, Unhandled
from bot.core.recurrence import next_due
from bot.core.reminder_types import (
    AskTimezone,
    Draft,
    Interrupt,
    ListReminders,
    OfferDaily,
    Remind,
    Reminder,
    ReminderChat,
    ReminderEvent,
    Resume,
    Typed,
)
from bot.core.times import (
    EVERY_DAY,
    WEEKDAYS,
    WEEKENDS,
    Days,
    DaysParseError,
    RemindOff,
    RemindRequest,
    TimeParseError,
    parse_remind_args,
    parse_time,
)
from bot.core.timezones import TimezoneFound, find_timezone, utc_offset_label

# A typed answer (a time, a time zone) is waited for this long (real seconds), then text is
# read as usual again.
WAIT_SECONDS = 600.0


# --------------------------------------------------------------------------- the machine


def _time_of(hhmm: str) -> time:
    """A time from content ("07:30", checked when content is loaded)."""
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


# What a user typed is quoted back at most this long: a reply must fit Telegram's 4,096.
ECHO_CHARS = 40


def _echo(text: str) -> str:
    """What the user typed, as quoted back: one line, and cut short when long."""
    flat = " ".join(text.split())
    return flat if len(flat) <= ECHO_CHARS else flat[: ECHO_CHARS - 1] + "…"


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class ReminderSetup:
    """The reminder conversation for one content folder."""

    def __init__(self, content: Content, *, default_timezone: str, speed: float) -> None:
        self.content = content
        self.spec = content.routine.reminders
        self.default_timezone = default_timezone
        self.speed = speed

    def zone(self, chat: ReminderChat) -> ZoneInfo:
        return ZoneInfo(chat.timezone or self.default_timezone)

    def advance(
        self, chat: ReminderChat, event: ReminderEvent, now: float
    ) -> tuple[ReminderChat, list[Effect]]:
        texts = self.content.texts(chat.locale)
        out = Out()
        match event:
            case Remind(args=args):
                chat = self._remind(replace(chat, draft=Draft()), args, now, texts, out)
            case ListReminders():
                chat = replace(chat, draft=replace(chat.draft, waiting_for=None))
                out.send(*self.listing(chat, now, texts))
            case AskTimezone(args=args):
                chat = self._timezone(chat, args, now, texts, out)
            case Typed(text=text):
                chat = self._typed(chat, text, now, texts, out)
            case Interrupt() if chat.draft.waiting_for is not None:
                chat = replace(chat, draft=replace(chat.draft, waiting_for=None))
            case OfferDaily():
                self._offer_daily(chat, now, texts, out)
            case Resume():
                chat = self._resume(chat, now)
            case Press():
                chat = self._press(chat, event, now, texts, out)
        return chat, out.effects

    # -- words -------------------------------------------------------------------------------

    def days_words(self, texts: Texts, days: Days) -> str:
        words = texts.reminders.days
        for key, group in (
            ("every_day", EVERY_DAY),
            ("weekdays", WEEKDAYS),
            ("weekends", WEEKENDS),
        ):
            if days == group:
                return str(getattr(words, key))
        return words.some.format(days=", ".join(words.names[d] for d in sorted(days)))

    def when(self, texts: Texts, at: datetime, zone: ZoneInfo) -> str:
        local = at.astimezone(zone)
        words = texts.reminders.days
        return words.next_format.format(
            weekday=words.names[local.weekday()],
            day=local.day,
            month=words.months[local.month - 1],
            time=local.strftime("%H:%M"),
        )

    # -- commands ----------------------------------------------------------------------------

    def _remind(
        self, chat: ReminderChat, args: Sequence[str], now: float, texts: Texts, out: Out
    ) -> ReminderChat:
        """/remind, /remind 07:30, /remind 7pm weekdays, /remind off."""
        if not args:
            if self._room_for_one_more(chat, texts, out):
                self._ask_time(texts, out)
            return chat
        try:
            request = parse_remind_args(args, self.content.words(chat.locale))
        except TimeParseError as exc:
            self._bad_time(texts, exc, out)
            return chat
        except DaysParseError as exc:
            out.send(texts.reminders.bad_days.format(text=_echo(exc.text)))
            return chat
        if isinstance(request, RemindOff):
            count = len(chat.reminders)
            r = texts.reminders
            out.send(r.all_off.format(count=count) if count else r.none_to_delete)
            return replace(chat, reminders=())
        return self._create(chat, request.time, request.days, now, texts, out)

    def listing(
        self, chat: ReminderChat, now: float, texts: Texts
    ) -> tuple[str, *tuple[Button, ...]]:
        """/reminders: each with its next time and a button to delete it."""
        if not chat.reminders:
            return (texts.reminders.none,)
        zone = self.zone(chat)
        lines = [texts.reminders.list_header.format(zone=zone.key)]
        buttons = []
        for i, reminder in enumerate(
            sorted(chat.reminders, key=lambda r: (r.local_time, r.id or 0))
        ):
            days = self.days_words(texts, reminder.days)
            due = _at(reminder.due_at)
            if due < _at(now):  # paused while the user had blocked the bot: from now on
                due = next_due(reminder.local_time, reminder.days, zone, _at(now))
            when = self.when(texts, due, zone)
            lines.append(texts.reminders.list_item.format(time=reminder.hhmm, days=days, next=when))
            label = texts.reminders.buttons.delete.format(time=reminder.hhmm, days=days)
            buttons.append(Button(label, Action.REMIND_DELETE, reminder.id, row=i))
        if chat.paused:
            lines += ["", texts.reminders.paused]
        return ("\n".join(lines), *buttons)

    def _timezone(
        self, chat: ReminderChat, args: Sequence[str], now: float, texts: Texts, out: Out
    ) -> ReminderChat:
        """/timezone Europe/Berlin, /timezone new york, or /timezone alone to see and change it."""
        query = " ".join(args).strip()
        if query:
            return self._set_timezone_from(chat, query, now, texts, out)
        if chat.timezone:
            zone = self.zone(chat)
            out.send(
                texts.timezone.current.format(
                    zone=zone.key,
                    now=_at(now).astimezone(zone).strftime("%H:%M"),
                    offset=utc_offset_label(zone, _at(now)),
                )
            )
        else:
            out.send(texts.timezone.ask)
        return replace(chat, draft=Draft(waiting_for="timezone", since=now))

    # -- typed answers -----------------------------------------------------------------------

    def _typed(
        self, chat: ReminderChat, text: str, now: float, texts: Texts, out: Out
    ) -> ReminderChat:
        """A typed answer the bot was waiting for (a time, a time zone); Unhandled if none."""
        draft = chat.draft
        if draft.waiting_for is None or text.startswith("/") or chat.routine_running:
            # During a routine, text is for the routine (it may be "it hurts"), not a zone.
            out.effects.append(Unhandled())
            return chat
        if now - draft.since > WAIT_SECONDS:
            out.effects.append(Unhandled())
            return replace(chat, draft=replace(draft, waiting_for=None))
        if draft.waiting_for == "timezone":
            return self._set_timezone_from(chat, text, now, texts, out)
        words = self.content.words(chat.locale)
        try:
            chosen = parse_time(text, words)
        except TimeParseError as exc:
            try:  # a whole "7pm weekdays" is welcome too
                request = parse_remind_args(text.split(), words)
            except (TimeParseError, DaysParseError):
                self._bad_time(texts, exc, out)
                return chat
            chat = replace(chat, draft=Draft())
            if isinstance(request, RemindRequest):
                return self._create(chat, request.time, request.days, now, texts, out)
            out.send(texts.reminders.not_set)  # "off", "stop": the user changed their mind
            return chat
        self._ask_days(_hhmm(chosen), texts, out)
        return replace(chat, draft=Draft(time=_hhmm(chosen)))

    # -- buttons -----------------------------------------------------------------------------

    def _press(
        self, chat: ReminderChat, press: Press, now: float, texts: Texts, out: Out
    ) -> ReminderChat:
        match press.action, press.value:
            case Action.REMIND_TIME, None:  # "Another time": typed
                out.send(texts.reminders.ask_custom_time)
                return replace(chat, draft=Draft(waiting_for="time", since=now))
            case Action.REMIND_ADD, time() as chosen:
                return self._create(chat, chosen, EVERY_DAY, now, texts, out)
            case Action.REMIND_TIME, time() as chosen:
                if self._room_for_one_more(chat, texts, out):
                    self._ask_days(_hhmm(chosen), texts, out)
                    return replace(chat, draft=Draft(time=_hhmm(chosen)))
                return chat
            case Action.REMIND_DAYS | Action.REMIND_DAY | Action.REMIND_DAYS_DONE, _:
                return self._press_days(chat, press, now, texts, out)
            case Action.REMIND_DELETE, int(reminder_id):
                return self._press_delete(chat, reminder_id, press.message_id, now, texts, out)
            case Action.SNOOZE, Snooze() as snooze:
                return self._snooze(chat, snooze, now, texts, out)
            case Action.SKIP_TODAY, int(reminder_id):
                return self._skip_today(chat, reminder_id, now, texts, out)
            case Action.TIMEZONE, str(key):
                return self._set_timezone_from(chat, key, now, texts, out)
        out.effects.append(Toast(texts.replies.stale_button))
        return chat

    def _press_days(
        self, chat: ReminderChat, press: Press, now: float, texts: Texts, out: Out
    ) -> ReminderChat:
        """Days for the time the pressed message shows (its buttons carry that time)."""
        value = press.value
        if isinstance(value, (DaysChoice, DayToggle)):
            chosen = value.at
        elif isinstance(value, time):
            chosen = value
        else:
            out.effects.append(Toast(texts.replies.stale_button))
            return chat
        draft = chat.draft
        if draft.time != _hhmm(chosen):  # an older set-up's buttons: start from what they show
            draft = Draft(time=_hhmm(chosen))
        if isinstance(value, DaysChoice) and value.choice in ("every_day", "weekdays"):
            days = EVERY_DAY if value.choice == "every_day" else WEEKDAYS
            return self._create(replace(chat, draft=Draft()), chosen, days, now, texts, out)
        if press.action == Action.REMIND_DAYS_DONE:
            if not draft.days:
                out.effects += [Toast(texts.reminders.choose_at_least_one), Keep()]
                return chat
            chat = replace(chat, draft=Draft())
            return self._create(chat, chosen, frozenset(draft.days), now, texts, out)
        ticked = set(draft.days)
        if isinstance(value, DayToggle):
            ticked ^= {value.day}
        draft = replace(draft, days=tuple(sorted(ticked)))
        text = texts.reminders.choose_days.format(time=draft.time)
        buttons = self._day_buttons(texts, chosen, frozenset(draft.days))
        if press.message_id is None:
            out.send(text, *buttons)
        else:
            out.effects += [Edit(press.message_id, text, buttons), Keep()]
        return replace(chat, draft=draft)

    def _find(self, chat: ReminderChat, reminder_id: int) -> Reminder | None:
        return next((r for r in chat.reminders if r.id == reminder_id), None)

    def _press_delete(
        self,
        chat: ReminderChat,
        reminder_id: int,
        message_id: int | None,
        now: float,
        texts: Texts,
        out: Out,
    ) -> ReminderChat:
        reminder = self._find(chat, reminder_id)
        if reminder is None:
            out.effects.append(Toast(texts.reminders.gone))
            if message_id is not None:  # an older listing: show what there is now
                text, *buttons = self.listing(chat, now, texts)
                out.effects += [Edit(message_id, text, tuple(buttons)), Keep()]
            return chat
        chat = replace(chat, reminders=tuple(r for r in chat.reminders if r is not reminder))
        if message_id is not None:
            text, *buttons = self.listing(chat, now, texts)
            out.effects += [Edit(message_id, text, tuple(buttons)), Keep()]
        days = self.days_words(texts, reminder.days)
        out.send(texts.reminders.deleted.format(time=reminder.hhmm, days=days))
        return chat

    def _snooze(
        self, chat: ReminderChat, snooze: Snooze, now: float, texts: Texts, out: Out
    ) -> ReminderChat:
        reminder = self._find(chat, snooze.reminder_id)
        if reminder is None:
            out.effects.append(Toast(texts.reminders.gone))
            return chat
        if snooze.minutes not in self.spec.snooze_minutes:
            out.effects.append(Toast(texts.replies.stale_button))
            return chat
        if reminder.snooze_at is not None and reminder.snooze_at > now:  # tapped again
            at = _at(reminder.snooze_at).astimezone(self.zone(chat)).strftime("%H:%M")
            out.effects.append(Toast(texts.reminders.snoozed.format(time=at)))
            return chat
        snooze_at = now + snooze.minutes * 60 / self.speed
        at = _at(snooze_at).astimezone(self.zone(chat)).strftime("%H:%M")
        out.send(texts.reminders.snoozed.format(time=at))
        return self._put(chat, replace(reminder, snooze_at=snooze_at))

    def _skip_today(
        self, chat: ReminderChat, reminder_id: int, now: float, texts: Texts, out: Out
    ) -> ReminderChat:
        """No snooze, and if this reminder is still to come today, not that either."""
        reminder = self._find(chat, reminder_id)
        if reminder is None:
            out.effects.append(Toast(texts.reminders.gone))
            return chat
        zone = self.zone(chat)
        following = _at(reminder.next_due)
        if following.astimezone(zone).date() == _at(now).astimezone(zone).date():
            following = next_due(reminder.local_time, reminder.days, zone, following)
        out.send(texts.reminders.skipped.format(next=self.when(texts, following, zone)))
        skipped = replace(reminder, next_due=following.timestamp(), snooze_at=None)
        return self._put(chat, skipped)

    @staticmethod
    def _put(chat: ReminderChat, changed: Reminder) -> ReminderChat:
        return replace(
            chat, reminders=tuple(changed if r.id == changed.id else r for r in chat.reminders)
        )

    # -- setting up ------------------------------------------------------------------------

    def _ask_time(self, texts: Texts, out: Out) -> None:
        buttons = [
            Button(choice, Action.REMIND_TIME, _time_of(choice), row=i // 3)
            for i, choice in enumerate(self.spec.time_choices)
        ]
        other = texts.reminders.buttons.other_time
        buttons.append(Button(other, Action.REMIND_TIME, None, row=(len(buttons) + 2) // 3))
        out.send(texts.reminders.ask_time, *buttons)

    def _ask_days(self, hhmm: str, texts: Texts, out: Out) -> None:
        b = texts.reminders.buttons
        at = _time_of(hhmm)
        out.send(
            texts.reminders.ask_days.format(time=hhmm),
            Button(b.every_day, Action.REMIND_DAYS, DaysChoice("every_day", at), row=0),
            Button(b.weekdays, Action.REMIND_DAYS, DaysChoice("weekdays", at), row=0),
            Button(b.choose_days, Action.REMIND_DAYS, DaysChoice("choose", at), row=1),
        )

    def _day_buttons(self, texts: Texts, at: time, chosen: Days) -> tuple[Button, ...]:
        b = texts.reminders.buttons
        names = texts.reminders.days.names
        days = [
            Button(
                b.day_selected.format(day=names[d]) if d in chosen else names[d],
                Action.REMIND_DAY,
                DayToggle(d, at),
                row=d // 4,
            )
            for d in range(7)
        ]
        return (*days, Button(b.done, Action.REMIND_DAYS_DONE, at, row=2))

    def _room_for_one_more(self, chat: ReminderChat, texts: Texts, out: Out) -> bool:
        """Whether the user may add a reminder; if not, says so before any set-up starts."""
        if len(chat.reminders) < self.spec.max_per_user:
            return True
        out.send(texts.reminders.too_many.format(max=self.spec.max_per_user))
        return False

    def _bad_time(self, texts: Texts, exc: TimeParseError, out: Out) -> None:
        r = texts.reminders
        reply = r.ambiguous_time if exc.reason == "ambiguous_hour" else r.bad_time
        out.send(reply.format(text=_echo(exc.text)))

    def _create(
        self, chat: ReminderChat, at: time, days: Days, now: float, texts: Texts, out: Out
    ) -> ReminderChat:
        hhmm = _hhmm(at)
        for r in chat.reminders:  # the same time on a day both share would come twice
            if r.local_time == at and r.days & days:
                out.send(
                    texts.reminders.duplicate.format(time=hhmm, days=self.days_words(texts, r.days))
                )
                return chat
        if not self._room_for_one_more(chat, texts, out):
            return chat
        zone = self.zone(chat)
        due = next_due(at, days, zone, _at(now))
        text = texts.reminders.set.format(
            time=hhmm, days=self.days_words(texts, days), next=self.when(texts, due, zone)
        )
        if chat.paused:
            text += "\n\n" + texts.reminders.paused
        out.send(text)
        first = not chat.reminders
        chat = replace(chat, reminders=(*chat.reminders, Reminder(None, at, days, due.timestamp())))
        if chat.timezone is None and first:
            local_now = _at(now).astimezone(zone).strftime("%H:%M")
            out.send(texts.reminders.assumed_timezone.format(zone=zone.key, now=local_now))
            chat = replace(chat, draft=Draft(waiting_for="timezone", since=now))
        return chat

    def _set_timezone_from(
        self, chat: ReminderChat, query: str, now: float, texts: Texts, out: Out
    ) -> ReminderChat:
        match = find_timezone(query, at=_at(now))
        tz = texts.timezone
        if isinstance(match, TimezoneFound):
            out.send(
                tz.set.format(
                    zone=match.key,
                    now=_at(now).astimezone(match.zone).strftime("%H:%M"),
                    offset=utc_offset_label(match.zone, _at(now)),
                )
            )
            # Every reminder keeps its local time, so its next UTC time moves.
            moved = tuple(
                replace(
                    r, next_due=next_due(r.local_time, r.days, match.zone, _at(now)).timestamp()
                )
                for r in chat.reminders
            )
            return replace(chat, timezone=match.key, draft=Draft(), reminders=moved)
        chat = replace(chat, draft=Draft(waiting_for="timezone", since=now))
        shown = _echo(query) if query.strip() else ""
        buttons = [
            Button(key, Action.TIMEZONE, key, row=i) for i, key in enumerate(match.suggestions)
        ]
        if not buttons or match.reason == "empty":
            out.send(tz.unknown.format(query=shown) if shown else tz.ask)
            return chat
        text = {"ambiguous": tz.ambiguous, "abbreviation": tz.abbreviation}.get(
            match.reason, tz.suggestions
        )
        out.send(text.format(query=shown), *buttons)
        return chat

    # -- after the routine, and when a user comes back -------------------------------------------

    def _offer_daily(self, chat: ReminderChat, now: float, texts: Texts, out: Out) -> None:
        """After a finished routine: a daily reminder at this time of day, if the user has none."""
        if chat.reminders:
            return
        if chat.timezone is None:  # the time of day here is unknown: let the user pick a time
            buttons = [
                Button(t, Action.REMIND_ADD, _time_of(t), row=i // 3)
                for i, t in enumerate(self.spec.time_choices)
            ]
            out.send(texts.reminders.offer_daily_pick, *buttons)
            return
        local = _at(now).astimezone(self.zone(chat))
        minutes = round((local.hour * 60 + local.minute) / 5) * 5 % (24 * 60)
        hhmm = f"{minutes // 60:02d}:{minutes % 60:02d}"
        label = texts.reminders.buttons.offer_daily.format(time=hhmm)
        out.send(
            texts.reminders.offer_daily.format(time=hhmm),
            Button(label, Action.REMIND_ADD, _time_of(hhmm)),
        )

    def _resume(self, chat: ReminderChat, now: float) -> ReminderChat:
        """Reminders go on from now: a missed time or a pending snooze is not replayed."""
        zone = self.zone(chat)
        resumed = tuple(
            replace(
                r,
                next_due=next_due(r.local_time, r.days, zone, _at(now)).timestamp(),
                snooze_at=None,
                retry_at=None,
                retry_of=None,
            )
            if r.next_due <= now or r.snooze_at is not None or r.retry_at is not None
            else r
            for r in chat.reminders
        )
        return replace(chat, reminders=resumed)

    # -- the reminder itself (for delivery) -----------------------------------------------------

    def message(self, chat: ReminderChat, reminder: Reminder, now: float) -> Send:
        """The reminder: one of a few texts, a different one each day, with its buttons."""
        texts = self.content.texts(chat.locale)
        r = texts.reminders
        assert reminder.id is not None
        day = _at(now).astimezone(self.zone(chat)).toordinal()
        snoozes = [
            Button(label.format(minutes=m), Action.SNOOZE, Snooze(reminder.id, m), row=1)
            for label, m in zip(r.buttons.snooze, self.spec.snooze_minutes, strict=True)
        ]
        return Send(
            r.messages[(reminder.id + day) % len(r.messages)],
            (
                Button(r.buttons.start, Action.START_ROUTINE, row=0),
                *snoozes,
                Button(r.buttons.skip_today, Action.SKIP_TODAY, reminder.id, row=2),
                # A rest day keeps the streak (/progress).
                Button(texts.report.rest_today, Action.REST_DAY, row=2),
            ),
        )


def latest_due(reminder: Reminder, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest time at or before `now` a reminder was due (at least its own next_due)."""
    latest = _at(reminder.next_due)
    # Step from a week back at most: the occurrences before that are older still.
    cursor = max(latest, now - timedelta(days=8))
    while (following := next_due(reminder.local_time, reminder.days, zone, cursor)) <= now:
        latest = cursor = following
    return latest
