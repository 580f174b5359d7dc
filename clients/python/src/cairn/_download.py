"""Reading a download whole or into a file, checked against the sha256 the server sends."""

import hashlib
import os
import uuid

from ._http import CHUNK, Response
from .errors import DigestMismatch


def read_verified(resp: Response, what: str) -> bytes:
    """The whole body of ``resp``; raises DigestMismatch if it does not match its sha256."""
    data = resp.read()
    _check(resp, hashlib.sha256(data).hexdigest(), what)
    return data


def save_verified(resp: Response, dest: str, what: str) -> None:
    """Streams ``resp`` into a temporary file next to ``dest``, checks its sha256, then renames
    it into place, so ``dest`` never holds a partial or wrong download. Closes ``resp``."""
    tmp = f"{dest}.part-{uuid.uuid4().hex[:8]}"
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for chunk in iter(lambda: resp.raw.read(CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
        _check(resp, h.hexdigest(), what)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        resp.close()


def _check(resp: Response, sha256: str, what: str) -> None:
    """Raises DigestMismatch unless ``sha256`` matches the server's ``ETag``."""
    expected = (resp.header("ETag") or "").strip('"')
    if expected and sha256 != expected:
        raise DigestMismatch(
            "digest_mismatch", f"downloaded bytes of {what} do not match their sha256; try again"
        )
