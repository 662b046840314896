"""Token buckets: how often a key (a credential, an address, an account) may do something, in process."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBuckets:
    """`rate` tokens a second, up to `burst`, per key; at most `max_keys` buckets (least recently
    used evicted first — an evicted bucket starts full again, so eviction only ever lets more through).
    Safe across threads; the clock is injectable for tests."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate must be > 0, burst and max_keys >= 1")
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._clock = clock
        self._buckets: OrderedDict[bytes, list[float]] = OrderedDict()  # key -> [tokens, last refill]
        self._lock = threading.Lock()

    def take(self, key: bytes) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until a token is available."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._buckets.popitem(last=False)
                bucket = self._buckets[key] = [float(self.burst), now]
            else:
                self._buckets.move_to_end(key)
                bucket[0] = min(float(self.burst), bucket[0] + max(0.0, now - bucket[1]) * self.rate)
                bucket[1] = now
            if bucket[0] >= 1.0:
                bucket[0] -= 1.0
                return 0.0
            return (1.0 - bucket[0]) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(wait: float) -> int:
    """`Retry-After` in whole seconds: rounded up, never 0 (0 would invite an immediate retry)."""
    return max(1, math.ceil(wait))
