"""Converting the client's Python arguments to what the HTTP API takes."""

import base64
import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Union

from .models import Artifact

#: A duration: a string like ``"30s"``, ``"15m"``, ``"24h"``, ``"7d"``, seconds, or a timedelta.
Duration = Union[str, int, float, timedelta]
#: Longest number of seconds taken as "that long ago" by since/until: larger ones are times.
TEN_YEARS = 10 * 365 * 86400
#: A point in time: ISO-8601 text, a datetime, or a Duration meaning that long ago.
When = Union[str, datetime, int, float, timedelta]
#: Metadata filters: ``{"k": "v"}`` equals, ``{"k": "pre*"}`` prefix, ``{"k": None}`` exists.
MetaFilter = Mapping[str, Optional[str]]
#: An artifact given by id or as an :class:`Artifact`.
Ref = Union[str, Artifact]


def admin_token_path() -> str:
    """Where a local server keeps its admin token: ``$CAIRN_DATA/admin.token`` (absolute)."""
    return os.path.abspath(os.path.join(os.environ.get("CAIRN_DATA") or "cairn-data", "admin.token"))


def no_token_hint() -> str:
    """What a 401 says when no token was found: where one was looked for and what to set."""
    return (
        f"no token: token= was not given, CAIRN_TOKEN is not set and {admin_token_path()} does "
        "not exist (it does only on the server's machine, in the directory it was started "
        "from). Set CAIRN_TOKEN=<token> or pass Client(token=...); an admin makes one with "
        "`cairn token create --scope write`"
    )


def local_admin_token() -> Optional[str]:
    """The admin token of a local server (``$CAIRN_DATA/admin.token``), as the CLI finds it."""
    path = admin_token_path()
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


def meta_value(v: Any) -> str:
    """A metadata value as the string the server stores (numbers and booleans converted)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return str(v)
    raise TypeError(
        f"metadata values must be strings (or numbers/booleans), got {type(v).__name__}"
    )


def meta_filters(meta: Optional[MetaFilter]) -> list[tuple[str, str]]:
    """``meta.KEY=VALUE`` query parameters (an empty value asks for the key to exist)."""
    return [(f"meta.{k}", "" if v is None else meta_value(v)) for k, v in (meta or {}).items()]


def seconds(d: Duration) -> float:
    """A duration in seconds. Raises ValueError for text that is not a duration."""
    if isinstance(d, timedelta):
        return d.total_seconds()
    if isinstance(d, (int, float)):
        return float(d)
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = d.strip()
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * units[unit]
    if text.isdigit():
        return float(text)
    raise ValueError(f"{d!r} is not a duration; use seconds or a string like 30s, 15m, 24h, 7d")


def duration(d: Duration) -> str:
    """A duration as the server's syntax (strings are passed through for it to check)."""
    if isinstance(d, str):
        return d
    ms = int(round(seconds(d) * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def point_in_time(t: When) -> str:
    """A time as ``since``/``until`` take it: a datetime as ISO-8601 (naive means local time),
    seconds or a timedelta as that long ago; text is passed through for the server to check."""
    if isinstance(t, datetime):
        return t.astimezone(timezone.utc).isoformat()
    if isinstance(t, (int, float)) and not isinstance(t, bool) and t > TEN_YEARS:
        # time.time() is a point in time, not "that many seconds ago" (which would be 1970).
        raise ValueError(
            f"{t!r} looks like a time (epoch seconds), not a duration ago; pass a datetime"
        )
    return duration(t)


def ref_id(ref: Ref) -> str:
    """The id of an artifact reference."""
    return ref.id if isinstance(ref, Artifact) else ref


def refs_of(refs: Union[Ref, Iterable[Ref], None]) -> list[Ref]:
    """One reference, several, or none, as a list."""
    if refs is None:
        return []
    if isinstance(refs, (str, Artifact)):
        return [refs]
    return list(refs)


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")
