"""Helpers shared by the tests: the harness that chats with the bot on the emulated Bot API."""
