"""Inline keyboards from the core's buttons: one definition of layout for every message."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.callbacks import Button


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """Buttons with a row share it; otherwise two short choices share a row, others get one each."""
    if not buttons:
        return None
    if any(b.row is not None for b in buttons):
        grouped: dict[int, list[Button]] = {}
        for b in buttons:
            grouped.setdefault(b.row or 0, []).append(b)
        layout = [grouped[r] for r in sorted(grouped)]
    elif len(buttons) > 2 or sum(len(b.label) for b in buttons) > 32:
        layout = [[b] for b in buttons]
    else:
        layout = [list(buttons)]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in layout]
    )
