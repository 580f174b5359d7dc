"""Retries on connection failures reuse one Idempotency-Key, so a push whose answer was lost
is stored once, not twice."""

import os
import re
import shutil
import tempfile
import unittest

from cairn import Client, ConnectionFailed

from .proxy import Proxy
from .server import SharedServer

server = SharedServer()
setUpModule, tearDownModule = server.start, server.close


def keys(proxy: Proxy) -> list:
    return [
        m.group(1)
        for r in proxy.requests
        for m in [re.search(rb"Idempotency-Key: (\S+)", bytes(r))]
        if m
    ]


class RetryTest(unittest.TestCase):
    def test_lost_answer_is_retried_with_the_same_key_and_stored_once(self) -> None:
        proxy = Proxy(server.url, drop_answers=2)  # the first two answers never arrive
        try:
            art = Client(proxy.url, server.token, retries=3).push(
                b"exactly once", "retry_a", "r.txt"
            )
        finally:
            proxy.close()
        self.assertEqual(len(proxy.requests), 3)
        sent = keys(proxy)
        self.assertEqual(len(sent), 3)
        self.assertEqual(len(set(sent)), 1, "every attempt must carry the same Idempotency-Key")
        c = Client(server.url, server.token)
        stored = list(c.query(session="retry_a"))
        self.assertEqual([(a.id, a.version) for a in stored], [(art.id, 1)])
        self.assertEqual(c.get("retry_a", "r.txt"), b"exactly once")

    def test_file_body_is_sent_again_from_the_start(self) -> None:
        tmp = tempfile.mkdtemp(prefix="cairn-py-retry-")
        try:
            path = os.path.join(tmp, "data.bin")
            with open(path, "wb") as f:
                f.write(os.urandom(300_000))
            proxy = Proxy(server.url, drop_answers=1, drop_method=b"PUT ")
            try:
                art = Client(proxy.url, server.token).push(path, "retry_b")
            finally:
                proxy.close()
            puts = [r for r in proxy.requests if r.startswith(b"PUT ")]
            self.assertEqual(len(puts), 2)
            self.assertGreater(len(puts[0]), 300_000)  # the first attempt sent the whole body
            # The retry sends the same request again from byte 0. The server may replay the
            # stored answer before it has read the whole retried body, so compare a prefix.
            head_end = bytes(puts[1]).index(b"\r\n\r\n") + 4
            self.assertGreater(len(puts[1]), head_end)
            self.assertTrue(bytes(puts[0]).startswith(bytes(puts[1])))
            c = Client(server.url, server.token)
            self.assertEqual(len(c.get("retry_b", "data.bin")), 300_000)
            self.assertEqual(c.session("retry_b").artifact_count, 1)
            self.assertEqual(art.version, 1)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_gives_up_after_the_configured_retries(self) -> None:
        proxy = Proxy(server.url, drop_answers=10)
        try:
            with self.assertRaises(ConnectionFailed) as cm:
                Client(proxy.url, server.token, retries=2).push(b"never", "retry_c", "n.txt")
        finally:
            proxy.close()
        self.assertEqual(cm.exception.code, "connection_failed")
        self.assertEqual(len(proxy.requests), 3)
        self.assertEqual(len(set(keys(proxy))), 1)
        # The server did store it on the first attempt; a later retry with that key replays it.
        c = Client(server.url, server.token)
        self.assertEqual(c.session("retry_c").artifact_count, 1)
        replay = c.push(b"never", "retry_c", "n.txt", idempotency_key=keys(proxy)[0].decode())
        self.assertEqual(replay.version, 1)
        self.assertEqual(c.session("retry_c").artifact_count, 1)

    def test_non_idempotent_calls_are_not_retried(self) -> None:
        c = Client(server.url, server.token)
        art = c.push(b"share me", "retry_d", "s.txt")
        proxy = Proxy(server.url, drop_answers=1)
        try:
            with self.assertRaises(ConnectionFailed):
                Client(proxy.url, server.token).delete(art.id)
        finally:
            proxy.close()
        self.assertEqual(len(proxy.requests), 1)


if __name__ == "__main__":
    unittest.main()
