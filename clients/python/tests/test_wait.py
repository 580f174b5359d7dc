"""wait_sealed(): returns as soon as the session is sealed, also when it did not exist when
the wait began; raises WaitTimeout (a TimeoutError) when it is not sealed in time."""

import threading
import time
import unittest

from cairn import CairnError, Client, Session, WaitTimeout

from .proxy import Proxy
from .server import SharedServer

server = SharedServer()
setUpModule, tearDownModule = server.start, server.close


class WaitTest(unittest.TestCase):
    def setUp(self) -> None:
        self.c = Client(server.url, server.token)

    def wait_in_thread(
        self, sid: str, timeout: float, url: str
    ) -> "tuple[threading.Thread, list[object]]":
        got: list[object] = []

        def run() -> None:
            try:
                got.append(Client(url, server.token).wait_sealed(sid, timeout=timeout))
            except CairnError as err:
                got.append(err)

        t = threading.Thread(target=run)
        t.start()
        return t, got

    def test_waiter_started_before_the_session_exists(self) -> None:
        with self.assertRaises(WaitTimeout):  # a session that does not exist yet is waited for
            self.c.wait_sealed("wait_new", timeout=0.5)
        proxy = Proxy(server.url)  # to know when the waiter's request has gone out
        try:
            t, got = self.wait_in_thread("wait_new", 60, proxy.url)
            while not any(b"/wait?" in bytes(r) for r in list(proxy.requests)):
                time.sleep(0.01)
            self.c.push(b"result", "wait_new", "r.txt")
            sealed = self.c.seal("wait_new")
            t.join(90)
        finally:
            proxy.close()
        self.assertFalse(t.is_alive())
        self.assertIsInstance(got[0], Session)
        self.assertTrue(got[0].sealed)  # type: ignore[attr-defined]
        self.assertEqual(got[0].digest, sealed.digest)  # type: ignore[attr-defined]
        self.assertEqual(got[0].id, "wait_new")  # type: ignore[attr-defined]

    def test_already_sealed_returns_at_once(self) -> None:
        self.c.push(b"x", "wait_done", "x.txt")
        digest = self.c.seal("wait_done").digest
        self.assertEqual(self.c.wait_sealed("wait_done", timeout="30s").digest, digest)

    def test_timeout_raises_wait_timeout(self) -> None:
        self.c.push(b"x", "wait_open", "x.txt")
        with self.assertRaises(WaitTimeout) as cm:
            self.c.wait_sealed("wait_open", timeout=1)
        self.assertIsInstance(cm.exception, TimeoutError)
        self.assertEqual(cm.exception.code, "timeout")
        self.assertFalse(self.c.session("wait_open").sealed)


if __name__ == "__main__":
    unittest.main()
