"""Pictures of the positions reach the chat with their card, and are uploaded to Telegram once."""

from __future__ import annotations

import sqlite3

from bot.core.callbacks import Action, Button
from bot.core.events import Picture, Send
from bot.runtime.runner import CAPTION_LIMIT, _pending
from tests.support.harness import CHAT, Harness


def stored_file_ids(h: Harness) -> dict[str, str]:
    with sqlite3.connect(h.database) as db:
        return dict(db.execute("SELECT key, file_id FROM media").fetchall())


async def test_each_card_comes_with_its_picture_and_the_instructions_as_caption(
    harness: Harness,
) -> None:
    h = harness
    await h.to_first_card()
    card = h.last()
    assert card.photo is not None and card.photo_bytes is not None
    assert card.photo_bytes[:4] == b"\x89PNG"
    assert card.caption is not None and card.caption.split("\n")[1] == "Right knee bent"
    assert "Sit with your left leg completely straight" in card.caption
    assert card.button_texts == ["Start hold", "⏹ Stop"]
    await h.tap("Start hold")
    assert card.buttons == []  # taken off the photo's message like any other
    await h.advance(30 + 15)
    second = h.last()
    assert second.photo is not None and second.photo != card.photo  # the mirrored side's own
    assert second.caption is not None and second.caption.split("\n")[1] == "Left knee bent"


async def test_a_picture_is_uploaded_once_then_sent_by_file_id_even_after_a_restart(
    harness: Harness,
) -> None:
    h = harness
    await h.to_first_card(CHAT)
    await h.to_first_card(CHAT + 1)
    first, second = h.last(CHAT), h.last(CHAT + 1)
    assert first.uploaded and not second.uploaded
    assert first.photo == second.photo
    assert list(stored_file_ids(h).values()) == [first.photo]
    await h.stop()
    await h.start()
    await h.to_first_card(CHAT + 2)
    third = h.last(CHAT + 2)
    assert not third.uploaded and third.photo == first.photo


async def test_a_file_id_telegram_refuses_is_forgotten_and_the_picture_uploaded_again(
    harness: Harness,
) -> None:
    h = harness
    await h.to_first_card(CHAT)
    old = h.last(CHAT).photo
    h.server.forget_files()  # as for a new bot token: the stored file_id means nothing now
    await h.to_first_card(CHAT + 1)
    card = h.last(CHAT + 1)
    assert card.uploaded and card.photo != old
    assert card.caption is not None and "Right knee bent" in card.caption
    assert len([m for m in h.messages(CHAT + 1) if m.photo]) == 1  # the card came once
    assert list(stored_file_ids(h).values()) == [card.photo]
    # The refusal was Telegram's answer to the stored file_id, as expected here.
    assert h.server.protocol_errors == [
        "sendPhoto: Bad Request: wrong file identifier/HTTP URL specified"
    ]
    h.server.protocol_errors.clear()


def test_a_text_too_long_for_a_caption_follows_its_picture() -> None:
    """Telegram's captions hold 1,024 characters: a longer card is the picture, then the text
    with the buttons (a translation may be longer than the English)."""
    button = Button("Start hold", Action.START_HOLD, 0)
    picture = Picture("seated_twist_right", "en")
    short = _pending(Send("x" * CAPTION_LIMIT, (button,), picture=picture))
    assert [(p.text, p.picture, len(p.buttons)) for p in short] == [
        ("x" * CAPTION_LIMIT, "seated_twist_right/en", 1)
    ]
    long = _pending(Send("x" * (CAPTION_LIMIT + 1), (button,), picture=picture))
    assert [(p.text, p.picture, len(p.buttons)) for p in long] == [
        ("", "seated_twist_right/en", 0),
        ("x" * (CAPTION_LIMIT + 1), None, 1),
    ]
