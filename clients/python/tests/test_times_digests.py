"""since/until take datetimes, seconds and timedeltas as well as text; get() checks the bytes
it returns against their sha256, as download() does."""

import hashlib
import os
import time
import unittest
from datetime import datetime, timedelta, timezone

from cairn import Client, DigestMismatch, InvalidRequest

from .server import SharedServer

server = SharedServer()
setUpModule, tearDownModule = server.start, server.close


class TimesAndDigestsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.c = Client(server.url, server.token)

    def test_since_and_until_in_every_form(self) -> None:
        pushed = self.c.push(b"t", "py_times", "t.txt")
        names = lambda **kw: [a.name for a in self.c.query(session="py_times", **kw)]  # noqa: E731
        hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
        for since in ("1h", 3600, 3600.0, timedelta(hours=1), hour_ago, hour_ago.isoformat()):
            self.assertEqual(names(since=since), ["t.txt"], repr(since))
        self.assertEqual(names(since=datetime.now() + timedelta(minutes=5)), [])  # naive: local
        self.assertEqual(names(until=timedelta(hours=1)), [])
        self.assertEqual(names(until=datetime.now(timezone.utc) + timedelta(minutes=1)), ["t.txt"])
        self.assertTrue(pushed.id)
        with self.assertRaises(ValueError):  # time.time() is a time, not "that long ago"
            names(since=time.time())
        with self.assertRaises(InvalidRequest) as cm:
            names(since="yesterday")
        self.assertEqual(cm.exception.code, "invalid_time")

    def test_get_refuses_bytes_that_do_not_match_their_sha256(self) -> None:
        data = os.urandom(100_000)  # over 64 KiB: a blob file, not a catalog row
        rec = self.c.push(data, "py_digest", "big.bin")
        self.assertEqual(self.c.get("py_digest", "big.bin"), data)
        sha = hashlib.sha256(data).hexdigest()
        path = os.path.join(server.data_dir, "blobs", sha[:2], sha[2:4], sha)
        with open(path, "r+b") as f:
            f.write(b"CORRUPT")
        with self.assertRaises(DigestMismatch) as cm:
            self.c.get("py_digest", "big.bin")
        self.assertEqual(cm.exception.code, "digest_mismatch")
        self.assertEqual(rec.sha256, sha)


if __name__ == "__main__":
    unittest.main()
