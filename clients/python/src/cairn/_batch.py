"""Directories in batches: ``POST /v1/sessions/{sid}/batch`` with a tar built as it is sent."""

import fnmatch
import hashlib
import io
import os
import tarfile
import uuid
from collections.abc import Iterator, Sequence
from typing import IO, Any, Callable, Optional

from ._http import Transport, path_of

#: Files up to this size go in batches; larger ones are pushed one by one (streamed).
BATCH_FILE_MAX = 8 * 1024 * 1024
#: A batch closes at this many files or bytes.
BATCH_MAX_FILES = 500
BATCH_MAX_BYTES = 32 * 1024 * 1024


class LocalFile:
    """A file found under the pushed directory: path, artifact name, size, sha256."""

    def __init__(self, path: str, name: str, size: int, sha256: str) -> None:
        self.path, self.name, self.size, self.sha256 = path, name, size, sha256


def walk(
    root: str, exclude: Sequence[str], follow_symlinks: bool, prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """(path, name) of every regular file under ``root``, in name order, as the CLI walks it.

    A glob without ``/`` in ``exclude`` is matched against each file and directory name, one
    with ``/`` against the path relative to ``root``. Symbolic links are skipped unless
    ``follow_symlinks`` (a directory already on the way down is not entered again).
    """
    seen = {os.path.realpath(root)}

    def excluded(rel: str) -> bool:
        base = rel.rsplit("/", 1)[-1]
        return any(
            fnmatch.fnmatchcase(rel if "/" in g else base, g.lstrip("/")) for g in exclude
        )

    def go(d: str, rel_dir: str, seen: set[str]) -> Iterator[tuple[str, str]]:
        for entry in sorted(os.scandir(d), key=lambda e: e.name):
            rel = f"{rel_dir}{entry.name}"
            if excluded(rel) or (entry.is_symlink() and not follow_symlinks):
                continue
            if entry.is_dir():
                real = os.path.realpath(entry.path)
                if real not in seen:
                    yield from go(entry.path, rel + "/", seen | {real})
            elif entry.is_file():
                yield entry.path, prefix + rel

    yield from go(root, "", seen)


def local_files(
    root: str, exclude: Sequence[str], follow_symlinks: bool, prefix: str
) -> list[LocalFile]:
    """Every file of ``root`` with its size and sha256 (read once each)."""
    out = []
    for path, name in walk(root, exclude, follow_symlinks, prefix):
        h = hashlib.sha256()
        size = 0
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
        out.append(LocalFile(path, name, size, h.hexdigest()))
    return out


class _TarBody(io.RawIOBase):
    """A readable tar of ``files`` (PAX headers carry each sha256), built as it is read."""

    def __init__(self, files: Sequence[LocalFile]) -> None:
        self._files = iter(files)
        self._buf = bytearray()
        self._tar: Optional[tarfile.TarFile] = tarfile.open(
            fileobj=self, mode="w|", format=tarfile.PAX_FORMAT  # type: ignore[arg-type]
        )

    def write(self, b: Any) -> int:  # tarfile writes here
        self._buf += b
        return len(b)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while self._tar is not None and (n < 0 or len(self._buf) < n):
            f = next(self._files, None)
            if f is None:
                self._tar.close()
                self._tar = None
                break
            info = tarfile.TarInfo(f.name)
            info.size = f.size
            info.mode = 0o644
            info.pax_headers = {"CAIRN.sha256": f.sha256}
            with open(f.path, "rb") as src:
                self._tar.addfile(info, src)
        n = len(self._buf) if n < 0 else min(n, len(self._buf))
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out


def batches(files: Sequence[LocalFile]) -> Iterator[list[LocalFile]]:
    """``files`` (small ones only) cut into batches bounded by count and bytes."""
    batch: list[LocalFile] = []
    size = 0
    for f in files:
        batch.append(f)
        size += f.size
        if len(batch) >= BATCH_MAX_FILES or size >= BATCH_MAX_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def send_batch(
    t: Transport, session: str, files: Sequence[LocalFile], query: list[tuple[str, str]]
) -> list[Any]:
    """Pushes ``files`` as one batch (all or none); returns the artifact records (JSON)."""
    opener: Callable[[], IO[bytes]] = lambda: _TarBody(files)  # noqa: E731
    headers = {"Content-Type": "application/x-tar", "Idempotency-Key": uuid.uuid4().hex}
    answer = t.json(
        "POST", path_of("v1", "sessions", session, "batch"), query, headers=headers, body=opener
    )
    return list(answer["artifacts"])
