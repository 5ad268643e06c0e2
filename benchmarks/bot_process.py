"""The bot in a process of its own, started as `stretchbot run` starts it, its pacing scaled.

    .venv/bin/python -m benchmarks.bot_process SCALE

It reads the same environment as `stretchbot run` (TELEGRAM_BOT_TOKEN, TELEGRAM_BASE_URL,
STRETCHBOT_*) and polls until SIGTERM. SCALE multiplies the rates the bot keeps to, for an
emulated Bot API with no limits or limits scaled the same (see `StretchBot`). The memory
benchmark measures this process's RSS.
"""

from __future__ import annotations

import sys

from benchmarks.content import bench_content
from bot.config import load_settings
from bot.logs import setup_logging
from bot.telegram.app import StretchBot


def main(argv: list[str]) -> None:
    settings = load_settings()
    token = settings.require_token()
    setup_logging("WARNING", secrets=(token,))
    content = bench_content(settings.content_dir)
    # The pictures are drawn at once: a fixed cost, measured in the warm-up, not in the growth.
    StretchBot(
        settings, content, token=token, rate_scale=float(argv[0]), draw_pictures_after=0
    ).run_polling()


if __name__ == "__main__":
    main(sys.argv[1:])
