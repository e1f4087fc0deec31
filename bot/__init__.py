"""Everything that talks to people: the CLI, the terminal chat, the Telegram bot, rendering."""

__version__ = "0.2.0"
