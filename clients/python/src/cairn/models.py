"""Result types: plain dataclasses built from the server's JSON records.

Times are the server's ISO-8601 UTC strings (e.g. ``2025-01-31T12:00:00.000Z``), kept as
given. Fields a newer server adds are ignored, so an older client keeps working.
"""

from dataclasses import dataclass, field, fields
from typing import Any, Optional, TypeVar

T = TypeVar("T")


def _known(cls: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class Artifact:
    """One pushed file (one version of ``session/name``)."""

    id: str
    session: str
    name: str
    version: int
    sha256: str
    size: int
    content_type: str
    meta: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    expires_at: Optional[str] = None
    derived_from: list[str] = field(default_factory=list)
    #: Only on a push's answer: True when the server already held these bytes.
    deduplicated: Optional[bool] = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Artifact":
        """Builds an Artifact from a server record."""
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class Session:
    """A session. ``artifacts`` is filled only by :meth:`cairn.Client.session`."""

    id: str
    meta: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""
    expires_at: Optional[str] = None
    sealed: bool = False
    sealed_at: Optional[str] = None
    #: sha256 over the canonical manifest, set once sealed.
    digest: Optional[str] = None
    #: The server's Ed25519 signature of the digest, set once sealed.
    signature: Optional[str] = None
    pinned: bool = False
    artifact_count: int = 0
    total_bytes: int = 0
    keep_versions: Optional[int] = None
    artifacts: Optional[list[Artifact]] = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Session":
        """Builds a Session (and its artifacts, if listed) from a server record."""
        values = _known(cls, data)
        if isinstance(values.get("artifacts"), list):
            values["artifacts"] = [Artifact.from_json(a) for a in values["artifacts"]]
        return cls(**values)


@dataclass(frozen=True)
class Share:
    """A share link. ``url`` (which holds the secret) is known only when the link is created."""

    id: str
    kind: str
    expires_at: str
    url: Optional[str] = None
    artifact_id: Optional[str] = None
    session: Optional[str] = None
    name: Optional[str] = None
    created_at: str = ""
    max_downloads: Optional[int] = None
    downloads: int = 0
    last_access_at: Optional[str] = None
    revoked_at: Optional[str] = None
    status: str = "active"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Share":
        """Builds a Share from a server record."""
        return cls(**_known(cls, data))
