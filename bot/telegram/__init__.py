"""The Telegram layer: handlers that turn updates into events, keyboards, the Telegram outbox
that turns effects into Bot API calls, and the wiring of the python-telegram-bot Application."""
