"""Errors raised by the Cairn client.

Every failure is a :class:`CairnError` carrying the server's stable snake_case ``code``, its
message (which says what to do) and the HTTP ``status`` (0 when the server was never reached).
Catch a subclass for one kind of failure, or ``CairnError`` for all of them.
"""

from typing import Any, Optional


class CairnError(Exception):
    """Base of every error the client raises."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 0,
        details: Optional[dict[str, Any]] = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        #: Stable machine-readable code from the server, e.g. ``session_sealed``.
        self.code = code
        #: The server's message, safe to show to a person.
        self.message = message
        #: HTTP status of the answer; 0 when no answer was received.
        self.status = status
        #: Extra public data the server attached, if any.
        self.details = details


class InvalidRequest(CairnError):
    """400: the request was malformed (bad name, metadata, duration, query, …)."""


class DigestMismatch(InvalidRequest):
    """400 ``digest_mismatch``: the bytes received differ from the announced sha256.

    Nothing was stored.
    """


class Unauthorized(CairnError):
    """401: no valid token. Pass ``token=`` or set ``CAIRN_TOKEN``."""


class Forbidden(CairnError):
    """403: the token is valid but its scope (or session glob) does not allow this."""


class NotFound(CairnError):
    """404: no such session, artifact, blob or share link (or it has expired)."""


class Conflict(CairnError):
    """409: the request conflicts with the current state."""


class SessionSealed(Conflict):
    """409 ``session_sealed``: the session is sealed and accepts no change."""


class Gone(CairnError):
    """410: the thing existed but has expired or been revoked."""


class TooLarge(CairnError):
    """413: the upload exceeds the server's maximum size."""


class InsufficientStorage(CairnError):
    """507: the server's disk is full; nothing was stored."""


class ServerError(CairnError):
    """5xx: the server failed; its log has the details."""


class ConnectionFailed(CairnError):
    """The server could not be reached, or the connection broke and retrying did not help."""


class WaitTimeout(CairnError, TimeoutError):
    """``wait_sealed`` reached its timeout before the session was sealed (code ``timeout``)."""


_BY_STATUS: dict[int, type[CairnError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: TooLarge,
    507: InsufficientStorage,
}

_BY_CODE: dict[str, type[CairnError]] = {
    "session_sealed": SessionSealed,
    "digest_mismatch": DigestMismatch,
}


def error_for(
    status: int, code: str, message: str, details: Optional[dict[str, Any]] = None
) -> CairnError:
    """The most specific :class:`CairnError` subclass for a server answer."""
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else CairnError
    return cls(code, message, status, details)
