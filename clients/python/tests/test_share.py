"""share(): links to an artifact by id, to session/name, to a whole session; they download
without a token, honor max_downloads, and need write access to create."""

import unittest
import urllib.error
import urllib.request

from cairn import Client, Forbidden, InvalidRequest, NotFound, Share

from .server import SharedServer

server = SharedServer()
setUpModule, tearDownModule = server.start, server.close


def fetch(url: str) -> "tuple[int, bytes, str]":
    """GET without any token: (status, body, content type)."""
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type", "")


class ShareTest(unittest.TestCase):
    def setUp(self) -> None:
        self.c = Client(server.url, server.token)

    def test_share_by_id_and_by_session_and_name(self) -> None:
        v1 = self.c.push(b"first", "share_a", "out/result.txt")
        self.c.push(b"second", "share_a", "out/result.txt")
        by_id = self.c.share(id=v1.id, ttl="1h")
        self.assertIsInstance(by_id, Share)
        self.assertEqual(
            (by_id.kind, by_id.artifact_id, by_id.status), ("artifact", v1.id, "active")
        )
        self.assertTrue((by_id.url or "").startswith(server.url + "/s/"))
        self.assertEqual(fetch(by_id.url or "")[:2], (200, b"first"))
        latest = self.c.share(session="share_a", name="out/result.txt", ttl=600)
        self.assertEqual(fetch(latest.url or "")[:2], (200, b"second"))
        self.assertNotEqual(latest.url, by_id.url)
        self.assertEqual(self.c.share(id=v1).artifact_id, v1.id)  # an Artifact works as id

    def test_share_of_a_missing_name_says_what_is_missing(self) -> None:
        self.c.push(b"here", "share_missing", "here.txt")
        with self.assertRaises(NotFound) as cm:
            self.c.share(session="share_missing", name="gone.txt")
        self.assertIn("'gone.txt' not found in session 'share_missing'", str(cm.exception))

    def test_share_a_session_and_a_download_cap(self) -> None:
        self.c.push(b"a", "share_b", "a.txt")
        whole = self.c.share(session="share_b", ttl="2h")
        self.assertEqual(
            (whole.kind, whole.session, whole.artifact_id), ("session", "share_b", None)
        )
        self.assertTrue((whole.url or "").startswith(server.url + "/s/"))
        self.assertTrue(whole.expires_at)
        once = self.c.share(session="share_b", name="a.txt", max_downloads=1)
        self.assertEqual(once.max_downloads, 1)
        self.assertEqual(fetch(once.url or "")[:2], (200, b"a"))
        self.assertEqual(fetch(once.url or "")[0], 410)  # used up

    def test_share_errors(self) -> None:
        with self.assertRaises(NotFound) as cm:
            self.c.share(session="share_c", name="missing.txt")
        self.assertEqual(cm.exception.code, "not_found")
        with self.assertRaises(NotFound):
            self.c.share(id="a_00000000000000000000000000")
        with self.assertRaises(InvalidRequest):
            self.c.push(b"x", "share_c", "x.txt")
            self.c.share(session="share_c", name="x.txt", ttl="forever")
        with self.assertRaises(ValueError):
            self.c.share(name="x.txt")
        reader = server.admin_json(
            "POST", "/v1/tokens", {"scope": "read", "name": "py-share-reader"}
        )
        with self.assertRaises(Forbidden):
            Client(server.url, reader["token"]).share(session="share_c")


if __name__ == "__main__":
    unittest.main()
