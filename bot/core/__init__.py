"""The pure core: content, the routine and its safety check, reminder rules, time zones, buttons.

Nothing here knows python-telegram-bot, storage or the clock: time is a parameter, and every
conversation is a machine of events in, state and effects out. An import contract in CI
(`lint-imports`, see pyproject.toml) keeps it so.
"""
