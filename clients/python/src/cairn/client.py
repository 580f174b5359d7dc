"""The Cairn client: push, read, query, seal, wait and share artifacts over Cairn's HTTP API."""

import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Optional, Union

from ._args import (
    Duration,
    MetaFilter,
    Ref,
    When,
    b64,
    duration,
    local_admin_token,
    no_token_hint,
    meta_filters,
    meta_value,
    point_in_time,
    ref_id,
    refs_of,
)
from . import _batch, _follow, _share
from ._download import read_verified, save_verified
from ._http import Response, Transport, name_path, path_of
from ._source import PushSource, Source, prepare
from .errors import CairnError, NotFound
from .models import Artifact, Session, Share

__version__ = "0.1.0"

#: Pushes at least this big ask the server first whether it already holds the bytes.
SKIP_CHECK_MIN_BYTES = 64 * 1024


class Client:
    """A client for one Cairn server.

    ``url`` defaults to ``$CAIRN_URL``, else ``http://127.0.0.1:7070``. ``token`` defaults to
    ``$CAIRN_TOKEN``, else the local server's admin token file (``$CAIRN_DATA/admin.token``,
    default ``./cairn-data/admin.token``) when it exists, as the ``cairn`` CLI does.
    ``timeout`` is the socket timeout in seconds; ``retries`` is how often a request is repeated
    after a connection failure (pushes carry an ``Idempotency-Key``, so a repeat never stores
    twice). Every method raises a :class:`cairn.CairnError` subclass on failure.
    A Client holds no connection between calls and may be shared between threads.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        timeout: float = 60.0,
        retries: int = 3,
    ) -> None:
        url = url or os.environ.get("CAIRN_URL") or "http://127.0.0.1:7070"
        if not token:
            token = os.environ.get("CAIRN_TOKEN") or local_admin_token()
        self._t = Transport(
            url,
            token or None,
            timeout,
            retries,
            user_agent=f"cairn-python/{__version__}",
            no_token_hint=no_token_hint(),
        )

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self._t.url

    # ---- push and read -------------------------------------------------------------------

    def push(
        self,
        source: PushSource,
        session: str,
        name: Optional[str] = None,
        meta: Optional[Mapping[str, Any]] = None,
        ttl: Optional[Duration] = None,
        derived_from: Union[Ref, Iterable[Ref], None] = None,
        content_type: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Artifact:
        """Pushes a file path, bytes or a binary file object as ``session/name``.

        ``name`` defaults to the file's base name. Files are hashed and sent in 1 MiB pieces,
        never read whole; the sha256 goes along as ``Content-Digest`` for the server to verify.
        When the server already holds the bytes (``HEAD /v1/blobs/{sha256}``), nothing is
        uploaded: the artifact is pushed by reference. Pushing a name again adds a version.
        Raises SessionSealed if the session is sealed, DigestMismatch if the file changed while
        it was sent, InvalidRequest for a bad name, metadata or ttl.
        """
        src = prepare(source)
        name = name or src.name
        if not name:
            raise ValueError("push() needs name= when pushing bytes or an unnamed file object")
        query: list[tuple[str, str]] = [
            (f"meta.{k}", meta_value(v)) for k, v in (meta or {}).items()
        ]
        if ttl is not None:
            query.append(("ttl", duration(ttl)))
        query += [("derived_from", ref_id(r)) for r in refs_of(derived_from)]
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        if content_type:
            headers["Content-Type"] = content_type
        path = path_of("v1", "sessions", session) + "/artifacts/" + name_path(name)
        if src.sha256 and (src.size or 0) >= SKIP_CHECK_MIN_BYTES and self.has_blob(src.sha256):
            try:
                rec = self._t.json("PUT", path, query + [("sha256", src.sha256)], headers=headers)
                return Artifact.from_json(rec)
            except NotFound as err:
                if err.code != "blob_not_found":
                    raise  # else the blob was collected in between: upload it after all
        return Artifact.from_json(self._upload(path, query, headers, src))

    def push_dir(
        self,
        path: str,
        session: str,
        meta: Optional[Mapping[str, Any]] = None,
        ttl: Optional[Duration] = None,
        prefix: str = "",
        exclude: Iterable[str] = (),
        sync: bool = False,
        follow_symlinks: bool = False,
    ) -> list[Artifact]:
        """Pushes every file under directory ``path`` as ``session/<prefix><relative path>``.

        Files are sent in batches (one request and one commit each, all of a batch or none of
        it; see ``POST /v1/sessions/{sid}/batch``), large ones one by one; each is hashed and
        verified by the server. ``exclude`` globs leave files out (without ``/`` matched
        against names, with ``/`` against relative paths); symbolic links are skipped unless
        ``follow_symlinks``. With ``sync``, files whose name and bytes match the latest version
        are not pushed. Returns the new artifacts in name order.
        """
        found = _batch.local_files(path, list(exclude), follow_symlinks, prefix)
        if sync:
            try:
                latest = {a.name: a.sha256 for a in self.session(session).artifacts}
            except NotFound:
                latest = {}
            found = [f for f in found if latest.get(f.name) != f.sha256]
        query = [(f"meta.{k}", meta_value(v)) for k, v in (meta or {}).items()]
        if ttl is not None:
            query.append(("ttl", duration(ttl)))
        small = [f for f in found if f.size <= _batch.BATCH_FILE_MAX]
        out = [
            Artifact.from_json(rec)
            for batch in _batch.batches(small)
            for rec in _batch.send_batch(self._t, session, batch, query)
        ]
        for f in found:
            if f.size > _batch.BATCH_FILE_MAX:
                out.append(self.push(f.path, session, f.name, meta=meta, ttl=ttl))
        return sorted(out, key=lambda a: a.name)

    def _upload(
        self, path: str, query: list[tuple[str, str]], headers: dict[str, str], src: Source
    ) -> Any:
        if src.sha256:
            digest = bytes.fromhex(src.sha256)
            headers = {**headers, "Content-Digest": f"sha-256=:{b64(digest)}:"}
        body = src.data if src.data is not None else src.opener
        return self._t.json(
            "PUT", path, query, headers=headers, body=body, length=src.size, retry=src.repeatable
        )

    def has_blob(self, sha256: str) -> bool:
        """True if the server holds bytes with this sha256 (hex)."""
        try:
            self._t.request("HEAD", path_of("v1", "blobs", sha256)).close()
            return True
        except NotFound:
            return False

    def get(self, session: str, name: str, version: Optional[int] = None) -> bytes:
        """The bytes of ``session/name`` (latest version, or ``version``), in memory.

        For large artifacts use :meth:`download`, which streams to a file. Raises
        DigestMismatch if the bytes do not match their sha256.
        """
        return read_verified(self._open(session, name, version), f"{session}/{name}")

    def download(
        self,
        session: str,
        name: str,
        path: Union[str, "os.PathLike[str]"],
        version: Optional[int] = None,
    ) -> str:
        """Streams ``session/name`` into ``path`` (a file, or a directory to put it in).

        Writes a temporary file next to the target, checks its sha256 against the server's
        ``ETag``, then renames it into place, so ``path`` never holds a partial download.
        Returns the path written.
        """
        dest = os.fspath(path)
        if os.path.isdir(dest):
            dest = os.path.join(dest, name.rsplit("/", 1)[-1])
        save_verified(self._open(session, name, version), dest, f"{session}/{name}")
        return dest

    def _open(self, session: str, name: str, version: Optional[int]) -> Response:
        path = path_of("v1", "sessions", session) + "/artifacts/" + name_path(name)
        query = [("version", str(version))] if version is not None else None
        return self._t.request("GET", path, query, headers={"Accept": "*/*"})

    def artifact(self, id: str) -> Artifact:
        """One artifact's record by id. Raises NotFound."""
        return Artifact.from_json(self._t.json("GET", path_of("v1", "artifacts", id)))

    def delete(self, id: Union[str, Artifact]) -> Artifact:
        """Deletes an artifact of an open session; returns its record. Raises SessionSealed."""
        rec = self._t.json("DELETE", path_of("v1", "artifacts", ref_id(id)), retry=False)
        return Artifact.from_json(rec)

    # ---- queries ---------------------------------------------------------------------------

    def query(
        self,
        session: Optional[str] = None,
        meta: Optional[MetaFilter] = None,
        type: Optional[str] = None,
        name: Optional[str] = None,
        where: Optional[str] = None,
        limit: Optional[int] = None,
        since: Optional[When] = None,
        until: Optional[When] = None,
        latest: bool = False,
        page_size: int = 100,
    ) -> Iterator[Artifact]:
        """Artifacts matching every condition, newest first, following cursors page by page.

        ``type`` is a media type (``application/json``) or family (``image/*``); ``name`` a
        glob; ``where`` the expression language (``score >= 0.9 and stage in ('qa','prod')``);
        ``since``/``until`` ISO times, datetimes, or durations back from now (``"24h"``,
        seconds, a timedelta); ``latest`` keeps
        only the newest version of each name; ``limit`` caps the total yielded.
        """
        params = meta_filters(meta)
        for k, v in (
            ("session", session),
            ("type", type),
            ("name", name),
            ("where", where),
            ("since", None if since is None else point_in_time(since)),
            ("until", None if until is None else point_in_time(until)),
        ):
            if v is not None:
                params.append((k, v))
        if latest:
            params.append(("latest", "true"))
        for rec in _follow.pages(self._t, "/v1/artifacts", params, limit, page_size):
            yield Artifact.from_json(rec)

    def sessions(
        self,
        meta: Optional[MetaFilter] = None,
        sealed: Optional[bool] = None,
        where: Optional[str] = None,
        limit: Optional[int] = None,
        page_size: int = 100,
    ) -> Iterator[Session]:
        """Sessions matching the filters, newest first, following cursors page by page."""
        params = meta_filters(meta)
        if sealed is not None:
            params.append(("sealed", "true" if sealed else "false"))
        if where is not None:
            params.append(("where", where))
        for rec in _follow.pages(self._t, "/v1/sessions", params, limit, page_size):
            yield Session.from_json(rec)

    # ---- sessions --------------------------------------------------------------------------

    def session(self, sid: str) -> Session:
        """One session with its artifacts (``.artifacts``). Raises NotFound."""
        return Session.from_json(self._t.json("GET", path_of("v1", "sessions", sid)))

    def create_session(
        self, sid: str, meta: Optional[Mapping[str, Any]] = None, ttl: Optional[Duration] = None
    ) -> Session:
        """Creates a session explicitly (a push creates one implicitly).

        Raises Conflict if it exists.
        """
        body: dict[str, Any] = {"id": sid}
        if meta:
            body["meta"] = {k: meta_value(v) for k, v in meta.items()}
        if ttl is not None:
            body["ttl"] = duration(ttl)
        return Session.from_json(self._t.json("POST", "/v1/sessions", payload=body, retry=False))

    def seal(self, sid: str) -> Session:
        """Seals a session (one-way, idempotent); the answer carries its ``digest``."""
        return Session.from_json(self._t.json("POST", path_of("v1", "sessions", sid, "seal")))

    def wait_sealed(self, sid: str, timeout: Duration = 60.0) -> Session:
        """Blocks until session ``sid`` is sealed (it may not exist yet) and returns it.

        Uses the server's long-poll (``GET /v1/sessions/{sid}/wait``), so waiting costs no
        polling. Raises :class:`cairn.WaitTimeout` (a ``TimeoutError``) after ``timeout``.
        """
        return Session.from_json(_follow.wait_sealed(self._t, sid, timeout))

    # ---- sharing ---------------------------------------------------------------------------

    def share(
        self,
        session: Optional[str] = None,
        name: Optional[str] = None,
        id: Optional[Union[str, Artifact]] = None,
        ttl: Optional[Duration] = None,
        max_downloads: Optional[int] = None,
    ) -> Share:
        """Creates a share link: to artifact ``id``, to ``session/name`` (its latest version),
        or to a whole ``session`` (served as a tar). Anyone with ``.url`` can download without
        a token until it expires (``ttl``, capped by the server) or is used ``max_downloads``
        times. The URL is returned only here.
        """
        body = _share.share_body(ttl, max_downloads)
        path = _share.share_path(self._t, session, name, id)
        return Share.from_json(self._t.json("POST", path, payload=body, retry=False))


__all__ = ["Client", "CairnError", "Duration", "MetaFilter", "When"]
