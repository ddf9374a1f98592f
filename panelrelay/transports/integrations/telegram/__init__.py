"""Telegram Bot API: send, check the token, read updates to discover groups and users."""
