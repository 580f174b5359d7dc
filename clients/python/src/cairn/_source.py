"""What a push sends: bytes, a file path or a file object, hashed without loading files whole."""

import hashlib
import io
import os
from dataclasses import dataclass
from typing import IO, Callable, Optional, Union, cast

from ._http import CHUNK

#: What :meth:`cairn.Client.push` accepts: a path, bytes, or a binary file object.
PushSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


@dataclass
class Source:
    """A push body. ``opener`` returns the bytes to send from the start each time it is called."""

    name: Optional[str]
    #: Bytes to send, or None when unknown (a pipe: sent chunked).
    size: Optional[int]
    #: sha256 hex, or None when the source cannot be read twice (a pipe).
    sha256: Optional[str]
    opener: Callable[[], IO[bytes]]
    #: Bytes held in memory (small sources), sent as they are.
    data: Optional[bytes] = None

    @property
    def repeatable(self) -> bool:
        """True when the body can be sent again (so a retry is possible)."""
        return self.sha256 is not None


def prepare(source: PushSource) -> Source:
    """Hashes the source (streaming files in 1 MiB reads) and says how to send it."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return Source(
            None, len(data), hashlib.sha256(data).hexdigest(), lambda: io.BytesIO(data), data
        )
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if os.path.isdir(path):
            raise IsADirectoryError(
                f"{path!r} is a directory: push its files one by one (cairn push DIR does it)"
            )
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no such file to push: {path!r}")
        return Source(
            os.path.basename(path),
            os.path.getsize(path),
            hash_file(path),
            lambda: open(path, "rb"),
        )
    if hasattr(source, "read"):
        return _from_file_object(source)
    raise TypeError(
        "push() takes a path (str or os.PathLike), bytes, or a binary file object opened 'rb'"
    )


def _from_file_object(f: IO[bytes]) -> Source:
    name = getattr(f, "name", None)
    base = os.path.basename(name) if isinstance(name, str) and name else None
    if base and base.startswith("<"):
        base = None  # <stdin> and friends
    seekable = False
    try:
        seekable = f.seekable()
    except (AttributeError, OSError, ValueError):
        pass
    if not seekable:
        # A pipe: stream it once, chunked, without a digest (it cannot be hashed in advance).
        return Source(base, None, None, lambda: _NoClose.wrap(f))
    start = f.tell()
    h = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: f.read(CHUNK), b""):
        if isinstance(chunk, str):
            raise TypeError("push() needs a binary file object: open the file with 'rb'")
        h.update(chunk)
        size += len(chunk)

    def reopen() -> IO[bytes]:
        f.seek(start)
        return _NoClose.wrap(f)

    return Source(base, size, h.hexdigest(), reopen)


def hash_file(path: str) -> str:
    """sha256 hex of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


class _NoClose(io.RawIOBase):
    """Reads from the caller's file object; closing it leaves the caller's file open."""

    def __init__(self, f: IO[bytes]) -> None:
        super().__init__()
        self._f = f

    @classmethod
    def wrap(cls, f: IO[bytes]) -> IO[bytes]:
        """``f`` behind a wrapper whose close() does not close it."""
        return cast(IO[bytes], cls(f))

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._f.read(size)
