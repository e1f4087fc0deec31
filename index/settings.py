"""Every environment variable archive-bot reads, what it means, and the one place it is read.

Flags override them. A variable that has a flag is read by click, through that flag's `envvar`
(bot/cli/); every other one through `value`. docs/operators.md's "Configuration" table lists
the same variables and the tests' clean environment clears them all (tests check both).
"""

from __future__ import annotations

import os

SETTINGS = {
    "TELEGRAM_BOT_TOKEN": "the bot's token from @BotFather; never logged",
    "TELEGRAM_API_BASE_URL": "the Bot API endpoint (a self-hosted server, tests)",
    "ARCHIVE_BOT_DATA_DIR": "the index and the query log (`--data-dir`)",
    "ARCHIVE_BOT_DATABASE_URL": "postgresql://…: the index and the query log in PostgreSQL",
    "ARCHIVE_BOT_CORPUS": "the archive's documents (`--corpus`)",
    "ARCHIVE_BOT_MODEL": "the primary embedding model (`--model`)",
    "ARCHIVE_BOT_BACKEND": "onnx (ONNX Runtime) or torch (PyTorch): the same vectors",
    "ARCHIVE_BOT_MAX_RATE": "requests per second to the Bot API (`run --max-rate`)",
    "ARCHIVE_BOT_WEBHOOK_URL": "https://…: receive updates by webhook there (`run --webhook`)",
    "ARCHIVE_BOT_WEBHOOK_LISTEN": "host:port the webhook server listens on (`run --listen`)",
    "ARCHIVE_BOT_MODERATORS": "comma-separated Telegram user ids allowed /stats, /recent, /reload",
    "ARCHIVE_BOT_LOG_RETENTION_DAYS": "days logged questions are kept",
    "ARCHIVE_BOT_LOG_SECRET": "the key of the askers' pseudonyms, 32 characters or more",
    "ARCHIVE_BOT_READ_LIMITS": "bounds on reading one file (`seconds=600,memory_mb=4096`)",
    "ARCHIVE_BOT_THREADS": "threads per model pass: `question=N,build=N` (index.threads)",
    "ARCHIVE_BOT_LOG_TIMESTAMPS": "1: each log line starts with the time (`--timestamps`)",
    "XDG_CACHE_HOME": "where the exported model is kept, in its `archive-bot` folder",
}


def value(name: str) -> str | None:
    """Return the environment's value of the setting `name` (None when it is not set).

    Raises:
        KeyError: `name` is not one of SETTINGS (a variable read without being documented).
    """
    if name not in SETTINGS:
        raise KeyError(f"{name} is not a setting of archive-bot: add it to index.settings")
    return os.environ.get(name)
