"""Stretch Coach: a Telegram bot that walks a person through a lower-back stretching routine."""

__version__ = "0.1.0"
