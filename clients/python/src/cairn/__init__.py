"""Cairn Python SDK: push, find, seal, wait for and share artifacts (standard library only).

A two-agent pipeline. Agent A produces and seals::

    from cairn import Client

    cairn = Client()  # CAIRN_URL and CAIRN_TOKEN from the environment
    cairn.push(b'{"rows": 42}', session="run_42", name="summary.json", meta={"agent": "a"})
    cairn.push("report.md", session="run_42", meta={"agent": "a", "stage": "draft"})
    cairn.seal("run_42")

Agent B waits for the seal, then picks up exactly what it needs::

    from cairn import Client

    cairn = Client()
    run = cairn.wait_sealed("run_42", timeout="10m")
    for art in cairn.query(session="run_42", meta={"agent": "a"}, type="application/json"):
        print(art.name, art.size, cairn.get(art.session, art.name))
    cairn.download("run_42", "report.md", "report.md")

Results are the dataclasses :class:`Artifact`, :class:`Session` and :class:`Share`; failures
raise :class:`CairnError` subclasses carrying the server's ``code`` and ``message``.
"""

from .client import SKIP_CHECK_MIN_BYTES, Client, Duration, MetaFilter, When, __version__
from .errors import (
    CairnError,
    Conflict,
    ConnectionFailed,
    DigestMismatch,
    Forbidden,
    Gone,
    InsufficientStorage,
    InvalidRequest,
    NotFound,
    ServerError,
    SessionSealed,
    TooLarge,
    Unauthorized,
    WaitTimeout,
)
from .models import Artifact, Session, Share

__all__ = [
    "Client",
    "Artifact",
    "Session",
    "Share",
    "Duration",
    "MetaFilter",
    "When",
    "SKIP_CHECK_MIN_BYTES",
    "CairnError",
    "Conflict",
    "ConnectionFailed",
    "DigestMismatch",
    "Forbidden",
    "Gone",
    "InsufficientStorage",
    "InvalidRequest",
    "NotFound",
    "ServerError",
    "SessionSealed",
    "TooLarge",
    "Unauthorized",
    "WaitTimeout",
    "__version__",
]
