"""/progress, /export, /privacy and /forget: a user's history, shown and handed over, and their
data theirs to erase. These read (or delete) what is stored; they change no conversation, so
they answer directly rather than through the runner's outbox.

- /progress: a chart (bot.media.chart, drawn on a worker thread) of pain before and after over
  the last 30 days, the days done and rested, and the streak, with a one-line summary and a
  "Rest day today" button. With no data yet, a friendly line instead.
- /export: a CSV file (sendDocument), one row per routine, then the safety answers, consent
  and settings, with dates in the user's time zone (columns: README, "Your data").
- /forget: after a confirmation button, every row about the user goes, in one transaction.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram import InputFile
from telegram.ext import Application

from bot.core.callbacks import Action, Button
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.history import Routine, local_day, report
from bot.core.plan import Plan
from bot.core.state import ChatState
from bot.media.chart import Labels, draw
from bot.runtime.clock import Clock
from bot.runtime.runner import Runner, Shown
from bot.storage import ChatSettings, RoutineRecord
from bot.telegram.keyboards import keyboard

WINDOW_DAYS = 30
DAY = 86400.0


class YourData:
    def __init__(
        self,
        runner: Runner,
        content: Content,
        plan: Plan,
        *,
        clock: Clock,
        default_timezone: str,
        inactive_days: int,
    ) -> None:
        self.runner = runner
        self.clock = clock  # wall time: the user's days
        self.store = runner.store
        self.content = content
        self.plan = plan
        self.default_timezone = default_timezone
        self.inactive_days = inactive_days

    def _zone(self, settings: ChatSettings) -> ZoneInfo:
        return ZoneInfo(settings.timezone or self.default_timezone)

    # -- /progress -----------------------------------------------------------------------------

    async def progress(
        self,
        app: Application,  # type: ignore[type-arg]
        chat_id: int,
        settings: ChatSettings,
        texts: Texts,
    ) -> None:
        now = self.clock.now()
        zone = self._zone(settings)
        records = await self.store.history.routines(chat_id, since=now - (WINDOW_DAYS + 1) * DAY)
        rests = [date.fromisoformat(d) for d in await self.store.history.rest_days(chat_id)]
        shown = report(
            [
                Routine(r.begun_at, r.outcome == "finished", r.pain_before, r.pain_after)
                for r in records
            ],
            rests,
            now,
            zone,
            WINDOW_DAYS,
        )
        w = texts.report
        rest = keyboard((Button(w.rest_today, Action.REST_DAY),))
        if shown.empty:
            await app.bot.send_message(chat_id, w.no_data, reply_markup=rest)
            return
        labels = Labels(
            w.title.format(days=WINDOW_DAYS, streak=shown.streak),
            w.before,
            w.after,
            w.done,
            w.rest,
            w.pain_axis,
        )
        png = await asyncio.to_thread(draw, shown, labels)
        lines = [w.summary.format(count=shown.routines, days=WINDOW_DAYS, streak=shown.streak)]
        if shown.change is not None:
            points = f"{abs(shown.change):.1f}".removesuffix(".0")
            if shown.change <= -0.5:
                lines.append(w.pain_lower.format(points=points))
            elif shown.change >= 0.5:
                lines.append(w.pain_higher.format(points=points))
            else:
                lines.append(w.pain_same)
        await app.bot.send_photo(
            chat_id,
            InputFile(png, filename="progress.png"),
            caption="\n".join(lines),
            reply_markup=rest,
        )

    async def rest_day(self, chat_id: int, settings: ChatSettings, texts: Texts) -> Shown:
        """A rest day declared (on /progress or a reminder): the streak carries on."""
        today = local_day(self.clock.now(), self._zone(settings))
        await self.store.history.add_rest_day(chat_id, today.isoformat())
        return Shown(texts.report.rest_saved)

    # -- /export -------------------------------------------------------------------------------

    async def export(
        self,
        app: Application,  # type: ignore[type-arg]
        chat_id: int,
        settings: ChatSettings,
        texts: Texts,
    ) -> None:
        data = await self.csv(chat_id, settings, texts)
        await app.bot.send_document(
            chat_id,
            InputFile(data, filename="stretch-coach.csv"),
            caption=texts.report.export_caption,
        )

    async def csv(self, chat_id: int, settings: ChatSettings, texts: Texts) -> bytes:
        """The user's data as CSV (UTF-8 with a BOM, so spreadsheet programs read it right)."""
        zone = self._zone(settings)
        state = await self.store.chats.load(chat_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(texts.report.export_columns)
        safety = await self.store.safety_log.of_chat(chat_id)
        stops = [at for at, event in safety if event.kind == "stop"]
        for record in await self.store.history.routines(chat_id):
            until = record.ended_at if record.ended_at is not None else record.begun_at + DAY
            count = sum(record.begun_at <= at <= until for at in stops)
            writer.writerow(self._routine_row(record, count, zone, texts))
        for at, event in safety:
            where = ""
            if event.exercise is not None and event.exercise in texts.exercises:
                exercise = texts.exercises[event.exercise]
                side = "" if event.side is None else f", {exercise.sides[event.side].title}"
                where = f" ({exercise.name}{side})"
            writer.writerow(
                [event.kind, *_when(at, zone), "", "", "", "", "", event.answer + where]
            )
        if state.consent_at is not None:
            writer.writerow(
                [
                    "consent",
                    *_when(state.consent_at, zone),
                    "",
                    "",
                    "",
                    "",
                    "",
                    state.consent_version,
                ]
            )
        for name, value in self._settings(state, settings):
            writer.writerow(["setting", "", "", "", "", "", "", "", f"{name} = {value}"])
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    def _routine_row(
        self, record: RoutineRecord, stops: int, zone: ZoneInfo, texts: Texts
    ) -> list[str]:
        holds = []
        for index, seconds in record.holds:
            if 0 <= index < len(self.plan.stretches):
                stretch = self.plan.stretches[index]
                exercise = texts.exercises[stretch.exercise_id]
                holds.append(f"{exercise.name}, {exercise.sides[stretch.side].title}: {seconds} s")
        outcome = texts.report.outcomes.get(record.outcome or "unfinished", record.outcome or "")
        return [
            "routine",
            *_when(record.begun_at, zone),
            outcome,
            "; ".join(holds),
            "" if record.pain_before is None else str(record.pain_before),
            "" if record.pain_after is None else str(record.pain_after),
            str(stops),
            "",
        ]

    def _settings(self, state: ChatState, settings: ChatSettings) -> list[tuple[str, str]]:
        prefs = state.prefs
        rows = [(f"hold {e}", f"{s} s") for e, s in prefs.holds]
        if prefs.rest_seconds is not None:
            rows.append(("rest", f"{prefs.rest_seconds} s"))
        if prefs.get_ready_seconds is not None:
            rows.append(("get ready", f"{prefs.get_ready_seconds} s"))
        rows.append(("countdown", "on" if prefs.countdown_edits else "off"))
        if prefs.ask_pain is not None:
            rows.append(("pain question", "on" if prefs.ask_pain else "off"))
        rows.append(("time zone", settings.timezone or self.default_timezone))
        return rows

    # -- /privacy and /forget ---------------------------------------------------------------------

    def privacy(self, texts: Texts) -> str:
        return texts.privacy.privacy.format(days=self.inactive_days)

    def forget_buttons(self, texts: Texts) -> tuple[Button, ...]:
        p = texts.privacy
        return (
            Button(p.forget_yes, Action.FORGET, True),
            Button(p.forget_no, Action.FORGET, False),
        )

    async def forget(self, chat_id: int) -> None:
        """Every row about the chat, gone; under its lock, so no step of it is half-saved."""
        async with self.runner.locked(chat_id):
            await self.store.forget(chat_id)


def _when(at: float, zone: ZoneInfo) -> tuple[str, str]:
    moment = datetime.fromtimestamp(at, zone)
    return moment.date().isoformat(), moment.strftime("%H:%M")
