"""HTTP transport: one http.client connection per request, streamed bodies, retries.

Retries happen only on connection failures (refused, reset, timed out, closed before the
answer), never on an HTTP error answer. A request is retried when it is safe to repeat: reads,
seals, and pushes (which always carry an ``Idempotency-Key``, so the server answers a repeat
with the first result instead of storing anything twice). A refused connection is retried for
every request, since nothing was sent.
"""

import http.client
import json
import ssl
import time
from collections.abc import Sequence
from typing import IO, Any, Callable, Optional, Union
from urllib.parse import quote, urlencode, urlsplit

from .errors import CairnError, ConnectionFailed, error_for

#: Bytes per read and write when streaming (large enough to keep loopback transfers fast).
CHUNK = 1 << 20

#: A body: bytes, or a function returning a fresh (rewound) readable each time it is called.
Body = Union[bytes, Callable[[], IO[bytes]], None]
Query = Sequence[tuple[str, str]]

_CONNECTION_ERRORS = (OSError, http.client.HTTPException)


class Response:
    """An answer whose status is below 400; ``raw`` is the open response, read it or close it."""

    def __init__(self, conn: http.client.HTTPConnection, raw: http.client.HTTPResponse) -> None:
        self._conn = conn
        self.raw = raw
        self.status = raw.status

    def header(self, name: str) -> Optional[str]:
        """A response header, or None."""
        return self.raw.getheader(name)

    def read(self) -> bytes:
        """The whole body (for small answers), then closes the connection."""
        try:
            return self.raw.read()
        finally:
            self.close()

    def close(self) -> None:
        """Releases the connection."""
        self.raw.close()
        self._conn.close()


class Transport:
    """Sends requests to one Cairn server with a bearer token."""

    def __init__(
        self,
        url: str,
        token: Optional[str],
        timeout: float,
        retries: int,
        backoff: float = 0.25,
        user_agent: str = "cairn-python",
        no_token_hint: Optional[str] = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Cairn URL must look like http://host:port, got {url!r}")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retries = retries
        self._backoff = backoff
        self._user_agent = user_agent
        #: The message of a 401 when no token is sent (where one was looked for, what to set).
        self._no_token_hint = no_token_hint

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(
                self._host,
                self._port,
                timeout=timeout,
                context=ssl.create_default_context(),
                blocksize=CHUNK,
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout, blocksize=CHUNK)

    def target(self, path: str, query: Optional[Query] = None) -> str:
        """The request target for a path under the server's base URL, with its query string."""
        qs = urlencode(list(query), quote_via=quote) if query else ""
        return f"{self._prefix}{path}" + (f"?{qs}" if qs else "")

    def request(
        self,
        method: str,
        path: str,
        query: Optional[Query] = None,
        headers: Optional[dict[str, str]] = None,
        body: Body = None,
        length: Optional[int] = None,
        retry: bool = True,
        timeout: Optional[float] = None,
    ) -> Response:
        """Sends one request (retrying on connection failures, see the module doc).

        ``length`` is the body's size; None with a callable body sends it chunked. Raises the
        matching :class:`CairnError` subclass for an answer >= 400 and
        :class:`ConnectionFailed` when the server cannot be reached.
        """
        hdrs = {"User-Agent": self._user_agent, "Accept": "application/json"}
        if self._token:
            hdrs["Authorization"] = f"Bearer {self._token}"
        hdrs.update(headers or {})
        if isinstance(body, bytes):
            hdrs["Content-Length"] = str(len(body))
        elif body is not None and length is not None:
            hdrs["Content-Length"] = str(length)
        elif body is None and method in ("PUT", "POST"):
            hdrs.setdefault("Content-Length", "0")
        target = self.target(path, query)
        attempt = 0
        while True:
            conn = self._connect(self.timeout if timeout is None else timeout)
            try:
                raw = self._exchange(conn, method, target, hdrs, body, length)
            except _SourceError as err:
                conn.close()
                raise err.cause from None
            except _CONNECTION_ERRORS as err:
                conn.close()
                refused = isinstance(err, ConnectionRefusedError)
                if attempt >= self.retries or not (retry or refused):
                    raise ConnectionFailed(
                        "connection_failed",
                        f"cannot reach Cairn at {self.url}: {err or type(err).__name__}",
                    ) from err
                time.sleep(self._backoff * (2**attempt))
                attempt += 1
                continue
            if raw.status >= 400:
                try:
                    data = raw.read()
                except _CONNECTION_ERRORS:
                    data = b""
                conn.close()
                if raw.status == 401 and not self._token and self._no_token_hint:
                    raise error_for(401, "unauthorized", self._no_token_hint)
                raise _error(raw.status, data)
            return Response(conn, raw)

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        headers: dict[str, str],
        body: Body,
        length: Optional[int],
    ) -> http.client.HTTPResponse:
        stream: Optional[IO[bytes]] = None
        payload: Any = body
        if callable(body):
            try:
                stream = payload = body()
            except OSError as err:
                # The file to send is gone or unreadable: not a connection failure to retry.
                raise _SourceError(err) from err
        try:
            try:
                conn.request(
                    method,
                    target,
                    body=payload,
                    headers=headers,
                    encode_chunked=stream is not None and length is None,
                )
            except (BrokenPipeError, ConnectionResetError):
                # The server may have answered early (e.g. 409 sealed) and closed its side:
                # its answer, if any, is still readable.
                resp = conn.getresponse()
                if resp.status < 400:
                    raise
                return resp
            return conn.getresponse()
        finally:
            if stream is not None:
                stream.close()

    def json(
        self,
        method: str,
        path: str,
        query: Optional[Query] = None,
        payload: Any = None,
        retry: bool = True,
        headers: Optional[dict[str, str]] = None,
        body: Body = None,
        length: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        """A request whose answer is JSON; a connection lost while reading it is retried too."""
        hdrs = dict(headers or {})
        if payload is not None:
            body = json.dumps(payload).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        attempt = 0
        while True:
            resp = self.request(method, path, query, hdrs, body, length, retry, timeout)
            try:
                data = resp.read()
                break
            except _CONNECTION_ERRORS as err:
                if not retry or attempt >= self.retries:
                    raise ConnectionFailed(
                        "connection_failed", f"the answer from {self.url} was cut off: {err}"
                    ) from err
                attempt += 1
        return json.loads(data.decode("utf-8")) if data else {}


def path_of(*segments: str) -> str:
    """``/a/b/c`` with every segment percent-encoded (``/`` inside a segment included)."""
    return "".join("/" + quote(s, safe="") for s in segments)


def name_path(name: str) -> str:
    """An artifact name as a URL path: each ``/``-separated part percent-encoded."""
    return "/".join(quote(part, safe="") for part in name.split("/"))


class _SourceError(Exception):
    """Opening the body failed (carried past the connection-error handling)."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


#: Codes for answers without a JSON body (HEAD requests, proxies in between).
_STATUS_CODES = {
    400: ("invalid_request", "the server refused the request as malformed"),
    401: ("unauthorized", "a valid token is required: pass token= or set CAIRN_TOKEN"),
    403: ("forbidden", "the token's scope does not allow this"),
    404: ("not_found", "no such thing on the server (or it has expired)"),
    409: ("conflict", "the request conflicts with the current state"),
    410: ("gone", "it has expired or been revoked"),
}


def _error(status: int, data: bytes) -> CairnError:
    try:
        err = json.loads(data.decode("utf-8"))["error"]
        return error_for(status, str(err["code"]), str(err["message"]), err.get("details"))
    except (ValueError, KeyError, TypeError):
        code, message = _STATUS_CODES.get(
            status, (f"http_{status}", f"HTTP {status} from the Cairn server")
        )
        return error_for(status, code, message)


__all__: list[str] = ["Transport", "Response", "CHUNK", "path_of", "name_path"]
