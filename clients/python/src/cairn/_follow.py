"""Calls that follow the server across requests: cursor pages and the sealed-session wait."""

import math
import time
from collections.abc import Iterator
from typing import Any, Optional

from ._args import Duration, seconds
from ._http import Transport, path_of
from .errors import WaitTimeout

#: Longest single long-poll of wait_sealed; longer waits poll again.
WAIT_SLICE_S = 60.0


def pages(
    t: Transport, path: str, params: list[tuple[str, str]], limit: Optional[int], page_size: int
) -> Iterator[dict[str, Any]]:
    """The items of ``GET path`` page after page (cursors followed), at most ``limit`` of them."""
    left = limit if limit is not None else math.inf
    cursor: Optional[str] = None
    while left > 0:
        size = int(min(left, page_size, 1000))
        q = params + [("limit", str(size))] + ([("cursor", cursor)] if cursor else [])
        page = t.json("GET", path, q)
        for item in page["items"][: int(min(left, len(page["items"])))]:
            yield item
            left -= 1
        cursor = page.get("next_cursor")
        if not cursor:
            return


def wait_sealed(t: Transport, sid: str, timeout: Duration) -> dict[str, Any]:
    """The session record once ``sid`` is sealed, long-polling in slices of at most
    :data:`WAIT_SLICE_S`; raises WaitTimeout after ``timeout``."""
    total = seconds(timeout)
    deadline = time.monotonic() + total
    while True:
        left = deadline - time.monotonic()
        poll_ms = max(1, int(min(left, WAIT_SLICE_S) * 1000))
        rec = t.json(
            "GET",
            path_of("v1", "sessions", sid, "wait"),
            [("until", "sealed"), ("timeout", f"{poll_ms}ms")],
            timeout=poll_ms / 1000 + t.timeout,
        )
        if rec.get("sealed"):
            return rec
        if deadline - time.monotonic() <= 0.001:
            raise WaitTimeout("timeout", f"session {sid!r} was not sealed within {total:g}s", 0)
