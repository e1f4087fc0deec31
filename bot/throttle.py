"""Per-asker throttling: a token bucket per key, kept in memory only."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

MAX_KEYS = 10_000  # forget idle askers beyond this many, so memory stays bounded


class Throttle:
    """Allows `burst` events at once per key, then one every `interval` seconds."""

    def __init__(
        self, burst: int, interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.interval = interval
        self._clock = clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, updated)

    def allow(self, key: Hashable) -> bool:
        """Take one token for `key`; False when its bucket is empty."""
        now = self._clock()
        tokens, updated = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - updated) / self.interval)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > MAX_KEYS:
            del self._buckets[next(iter(self._buckets))]  # the least recently seen
        return allowed
