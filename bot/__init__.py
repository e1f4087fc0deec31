"""Everything that talks to people: the CLI, the terminal chat, the Telegram bot, rendering."""

# A new version for each change of the index format, the query log's schema or behaviour that
# operators see; CHANGELOG.md has its section, and the release is tagged
# (docs/architecture.md, "Releasing").
__version__ = "0.10.0"
