"""Share links: which ``POST …/share`` a share() call makes, and with what body."""

from typing import Any, Optional, Union

from ._args import Duration, duration, ref_id
from ._http import Transport, name_path, path_of
from .errors import CairnError
from .models import Artifact


def share_body(ttl: Optional[Duration], max_downloads: Optional[int]) -> dict[str, Any]:
    """The JSON body of a share request."""
    body: dict[str, Any] = {}
    if ttl is not None:
        body["ttl"] = duration(ttl)
    if max_downloads is not None:
        body["max_downloads"] = max_downloads
    return body


def share_path(
    t: Transport,
    session: Optional[str],
    name: Optional[str],
    id: Optional[Union[str, Artifact]],
) -> str:
    """The share endpoint for artifact ``id``, for ``session/name`` (its latest version, looked
    up now; raises as a read of it would), or for a whole ``session``. Raises ValueError if the
    arguments name none of these."""
    if id is not None:
        return path_of("v1", "artifacts", ref_id(id), "share")
    if session is not None and name is not None:
        target = path_of("v1", "sessions", session) + "/artifacts/" + name_path(name)
        try:
            resp = t.request("HEAD", target)
        except CairnError as e:
            if e.status == 0 or e.status >= 500:
                raise
            # A HEAD answer has no body: ask again for one byte, whose error says why.
            resp = t.request("GET", target, headers={"Range": "bytes=0-0"})
        resp.close()
        return path_of("v1", "artifacts", resp.header("X-Cairn-Artifact-Id") or "", "share")
    if session is not None:
        return path_of("v1", "sessions", session, "share")
    raise ValueError("share() needs id=, session= and name=, or session=")
