"""Large transfers stream both ways with bounded memory; pushes of bytes the server already
holds send no body (HEAD /v1/blobs/{sha256}, then a push by reference)."""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from cairn import Client

from .proxy import Proxy
from .server import PYTHON, SharedServer

server = SharedServer()
setUpModule, tearDownModule = server.start, server.close

MIB = 1 << 20

# Runs in a fresh interpreter so its peak RSS (ru_maxrss, KiB on Linux) measures only the
# SDK's work: push the file, push it again (skip-upload), download it.
MEASURE = r"""
import json, resource, sys
from cairn import Client
src, dest = sys.argv[1], sys.argv[2]
c = Client()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
first = c.push(src, "big_stream", "big.bin")
second = c.push(src, "big_stream", "again.bin")
c.download("big_stream", "big.bin", dest)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kib": before, "after_kib": after, "size": first.size,
                  "sha256": first.sha256, "dedup": second.deduplicated}))
"""


class StreamingTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="cairn-py-stream-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_file_over_100_mib_streams_with_bounded_memory(self) -> None:
        src = os.path.join(self.tmp, "big.bin")
        h = hashlib.sha256()
        with open(src, "wb") as f:
            for i in range(110):
                block = os.urandom(MIB // 2) + bytes([i]) * (MIB // 2)
                h.update(block)
                f.write(block)
        dest = os.path.join(self.tmp, "back.bin")
        out = subprocess.run(
            [PYTHON, "-c", MEASURE, src, dest],
            env=server.env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        r = json.loads(out.stdout)
        self.assertEqual((r["size"], r["sha256"], r["dedup"]), (110 * MIB, h.hexdigest(), True))
        grown_mib = (r["after_kib"] - r["before_kib"]) / 1024
        print(
            f"\n  110 MiB push, skip-upload push, download: peak RSS {r['before_kib'] / 1024:.1f}"
            f" -> {r['after_kib'] / 1024:.1f} MiB",
            end=" ",
        )
        self.assertLess(grown_mib, 64, "the SDK held a large part of the file in memory")
        self.assertEqual(os.path.getsize(dest), 110 * MIB)
        self.assertEqual(_sha256(dest), h.hexdigest())

    def test_skip_upload_sends_no_body_when_the_server_has_the_bytes(self) -> None:
        src = os.path.join(self.tmp, "model.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(4 * MIB))
        proxy = Proxy(server.url)
        try:
            c = Client(proxy.url, server.token)
            first = c.push(src, "skip_a", "weights.bin")
            uploaded = proxy.bytes_up
            self.assertGreater(uploaded, 4 * MIB)
            self.assertFalse(first.deduplicated)
            second = c.push(src, "skip_b", "weights-copy.bin", meta={"copy": "yes"})
            skipped_pass = proxy.bytes_up - uploaded
            self.assertLess(skipped_pass, 16 * 1024, "the second push re-sent the bytes")
            self.assertEqual((second.sha256, second.size), (first.sha256, 4 * MIB))
            self.assertTrue(second.deduplicated)
            sent = b"".join(proxy.requests[-2:])
            self.assertIn(b"HEAD /v1/blobs/" + first.sha256.encode(), sent)
            self.assertIn(b"sha256=" + first.sha256.encode(), sent)
            self.assertEqual(
                hashlib.sha256(c.get("skip_b", "weights-copy.bin")).hexdigest(), first.sha256
            )
            with open(src, "rb") as f:  # a seekable file object takes the same path
                before = proxy.bytes_up
                c.push(f, "skip_b", "from-fileobj.bin")
                self.assertLess(proxy.bytes_up - before, 16 * 1024)
        finally:
            proxy.close()


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


if __name__ == "__main__":
    unittest.main()
