"""What the Telegram handlers share: the loaded archive, the log, answers on screen, throttles."""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from bot.callbacks import document_key
from bot.health import Health
from bot.inbox import Inbox
from bot.querylog import DEFAULT_RETENTION_DAYS, QueryLog
from bot.texts import index_size
from bot.throttle import Throttle
from index.errors import ArchiveError
from index.search import Searcher
from index.store import REBUILD_HINT, open_index

logger = logging.getLogger(__name__)

RECENT_ANSWERS = 10_000  # answers whose buttons still work, kept in memory


@dataclass
class Shown:
    """An answer on screen: what its buttons refer to."""

    query: str
    shown: int
    asker: int | None = None  # in memory only, for /forget (a user's or a chat's id)
    logged: Future | None = None  # the query log's id of the question, once written


class RecentAnswers:
    """The last answers, by random id; older ones expire and their buttons say so."""

    def __init__(self, size: int = RECENT_ANSWERS) -> None:
        self.size = size
        self._answers: OrderedDict[str, Shown] = OrderedDict()

    def add(self, shown: Shown) -> str:
        answer_id = secrets.token_urlsafe(6)  # 8 characters
        self._answers[answer_id] = shown
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)
        return answer_id

    def get(self, answer_id: str) -> Shown | None:
        return self._answers.get(answer_id)

    def forget(self, asker: int) -> None:
        """Drop the asker's answers, so their questions leave memory too."""
        for answer_id in [k for k, v in self._answers.items() if v.asker == asker]:
            del self._answers[answer_id]


@dataclass
class BotState:
    """Everything the handlers share; the searcher arrives in `post_init`."""

    data_dir: Path
    model: str
    inbox: Inbox  # updates received and not yet handled (bot.inbox); the bot needs it
    top_k: int = 3
    moderators: frozenset[int] = frozenset()
    retention_days: int = DEFAULT_RETENTION_DAYS
    searcher: Searcher | None = None
    log: QueryLog | None = None
    log_wanted: bool = True  # False: `run --no-log`, the operator's explicit choice
    health: Health = field(default_factory=Health)
    started: float = field(default_factory=time.time)
    dropped_before: int = 0  # log entries lost by earlier runs (from status.json)
    documents: dict[str, str] = field(default_factory=dict)  # document key -> id
    answers: RecentAnswers = field(default_factory=RecentAnswers)
    questions: Throttle = field(default_factory=lambda: Throttle(burst=8, interval=3.0))
    inline: Throttle = field(default_factory=lambda: Throttle(burst=20, interval=1.0))
    _last_problem: str | None = None  # logged once, not at every check

    def use(self, searcher: Searcher) -> None:
        """Serve from `searcher` from now on; questions in flight keep the one they started with."""
        self.searcher = searcher
        self.documents = {document_key(d["id"]): d["id"] for d in searcher.store.documents()}

    def reload(self, verify: bool = False) -> str | None:
        """Switch to a newer index of the data dir, if there is one (blocking: run in a thread).

        Args:
            verify: also check the file of the index in use (a moderator's /reload).

        Returns:
            What happened, in one line, or None when the index did not change.
        """
        current = self.searcher.store
        try:
            if current.latest_build() == current.manifest["build_id"]:
                if verify and (problem := current.check()):
                    raise ArchiveError(f"the index in use is damaged ({problem}): {REBUILD_HINT}")
                return None
            searcher = Searcher(open_index(self.data_dir), self.searcher.embedder)
        except ArchiveError as error:
            message = f"kept the current index: {error}"
            if message != self._last_problem:
                logger.error("%s", message)
                self._last_problem = message
            return message
        self._last_problem = None
        self.use(searcher)
        manifest = searcher.store.manifest
        message = (
            f"switched to the index built {manifest['built_at']} ({index_size('en', manifest)})"
        )
        logger.info("%s", message)
        return message

    def examples(self, lang: str) -> list[str]:
        """The catalogue's example questions in `lang`, else in English (see bot.texts)."""
        examples = self.searcher.store.manifest.get("examples", {}) if self.searcher else {}
        return examples.get(lang) or examples.get("en", [])
