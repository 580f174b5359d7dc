"""Every Client method against a real Cairn server: push (bytes, path, file objects, pipes),
get, download, artifact, delete, query and sessions (following cursors), session, seal,
the sealed error, bad tokens, scopes and the environment fallbacks."""

import io
import os
import shutil
import tempfile
import threading
import unittest
from unittest import mock

from cairn import (
    Artifact,
    CairnError,
    Client,
    ConnectionFailed,
    DigestMismatch,
    Forbidden,
    InvalidRequest,
    NotFound,
    Session,
    SessionSealed,
    Unauthorized,
)

from .server import SharedServer

server = SharedServer()
setUpModule, tearDownModule = server.start, server.close


class ClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.c = Client(server.url, server.token)
        self.tmp = tempfile.mkdtemp(prefix="cairn-py-client-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def file(self, name: str, data: bytes) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_push_bytes_versions_and_get(self) -> None:
        a1 = self.c.push(b"v1", "c_bytes", "notes/a.txt", meta={"agent": "a", "n": 3, "ok": True})
        self.assertIsInstance(a1, Artifact)
        self.assertEqual(
            (a1.session, a1.name, a1.version, a1.size), ("c_bytes", "notes/a.txt", 1, 2)
        )
        self.assertEqual(a1.meta, {"agent": "a", "n": "3", "ok": "true"})
        self.assertEqual(a1.content_type, "text/plain")
        self.assertFalse(a1.deduplicated)
        a2 = self.c.push(bytearray(b"v2!"), "c_bytes", "notes/a.txt")
        self.assertEqual(a2.version, 2)
        self.assertEqual(self.c.get("c_bytes", "notes/a.txt"), b"v2!")
        self.assertEqual(self.c.get("c_bytes", "notes/a.txt", version=1), b"v1")
        self.assertTrue(self.c.has_blob(a1.sha256))
        self.assertFalse(self.c.has_blob("0" * 64))
        again = self.c.push(memoryview(b"v1"), "c_bytes", "copy.txt")
        self.assertTrue(again.deduplicated)
        self.assertEqual(again.sha256, a1.sha256)

    def test_push_path_retried_with_the_same_idempotency_key_replays(self) -> None:
        # The retry finds the bytes stored and pushes by reference: still the same push.
        path = self.file("big.bin", b"\x07" * 100_000)
        first = self.c.push(path, "c_idem", idempotency_key="py-retry-1")
        again = self.c.push(path, "c_idem", idempotency_key="py-retry-1")
        self.assertEqual((again.id, again.version), (first.id, 1))

    def test_push_of_a_directory_or_missing_path_says_which(self) -> None:
        with self.assertRaisesRegex(IsADirectoryError, "is a directory"):
            self.c.push(self.tmp, "c_dir")
        with self.assertRaisesRegex(FileNotFoundError, "no such file to push"):
            self.c.push(os.path.join(self.tmp, "missing.txt"), "c_dir")

    def test_push_path_with_default_name_then_download(self) -> None:
        path = self.file("report.md", b"# Report\n" * 1000)
        art = self.c.push(path, "c_path", meta={"stage": "draft"}, content_type="text/markdown")
        self.assertEqual(
            (art.name, art.content_type, art.size), ("report.md", "text/markdown", 9000)
        )
        out = os.path.join(self.tmp, "out.md")
        self.assertEqual(self.c.download("c_path", "report.md", out), out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"# Report\n" * 1000)
        into = os.path.join(self.tmp, "dir")
        os.mkdir(into)
        written = self.c.download("c_path", "report.md", into)
        self.assertEqual(written, os.path.join(into, "report.md"))
        self.assertEqual(os.listdir(into), ["report.md"])  # no temporary file left behind
        with self.assertRaises(NotFound):
            self.c.download("c_path", "missing.md", os.path.join(self.tmp, "never"))
        self.assertFalse(any(n.startswith("never") for n in os.listdir(self.tmp)))

    def test_push_file_objects_seekable_and_pipe(self) -> None:
        f = io.BytesIO(b"HEADERbody bytes")
        f.seek(6)  # pushes from the current position
        art = self.c.push(f, "c_fobj", "body.bin")
        self.assertEqual(self.c.get("c_fobj", "body.bin"), b"body bytes")
        self.assertEqual(art.content_type, "application/octet-stream")
        self.assertFalse(f.closed)
        with open(self.file("named.json", b'{"a": 1}'), "rb") as named:
            self.assertEqual(self.c.push(named, "c_fobj").name, "named.json")
        r, w = os.pipe()
        payload = os.urandom(3 << 20)

        def feed() -> None:
            with os.fdopen(w, "wb") as wf:
                wf.write(payload)

        t = threading.Thread(target=feed)
        t.start()
        with os.fdopen(r, "rb") as pipe:
            piped = self.c.push(pipe, "c_fobj", "piped.bin")
        t.join()
        self.assertEqual(piped.size, len(payload))
        self.assertEqual(self.c.get("c_fobj", "piped.bin"), payload)
        with self.assertRaises(ValueError):
            self.c.push(io.BytesIO(b"x"), "c_fobj")  # no name to use
        with self.assertRaises(TypeError):
            self.c.push(io.StringIO("text"), "c_fobj", "t.txt")  # type: ignore[arg-type]

    def test_ttl_derived_from_artifact_and_delete(self) -> None:
        src = self.c.push(b"input", "c_lin", "in.txt")
        out = self.c.push(b"output", "c_lin", "out.txt", ttl="1h", derived_from=src)
        self.assertEqual(out.derived_from, [src.id])
        self.assertIsNotNone(out.expires_at)
        self.assertIsNotNone(self.c.push(b"o2", "c_lin", "o2.txt", ttl=3600).expires_at)
        self.assertEqual(
            self.c.artifact(out.id), Artifact.from_json({**out.__dict__, "deduplicated": None})
        )
        deleted = self.c.delete(out)
        self.assertEqual(deleted.id, out.id)
        with self.assertRaises(NotFound) as cm:
            self.c.artifact(out.id)
        self.assertEqual(cm.exception.status, 404)

    def test_query_follows_cursors_and_filters(self) -> None:
        ids = [
            self.c.push(
                f"{i}".encode(),
                "c_query",
                f"part-{i}.txt",
                meta={"i": i, "team": "x" if i % 2 else "y"},
            ).id
            for i in range(7)
        ]
        self.c.push(b'{"k": 1}', "c_query", "data.json", meta={"score": "0.95"})
        every = list(self.c.query(session="c_query", name="part-*", page_size=2))
        self.assertEqual([a.id for a in every], list(reversed(ids)))  # newest first, 4 pages
        self.assertEqual(len(list(self.c.query(session="c_query", limit=3, page_size=2))), 3)
        odd = {a.meta["i"] for a in self.c.query(session="c_query", meta={"team": "x"})}
        self.assertEqual(odd, {"1", "3", "5"})
        self.assertEqual(len(list(self.c.query(session="c_query", meta={"team": None}))), 7)
        self.assertEqual(len(list(self.c.query(session="c_query", meta={"team": "x*"}))), 3)
        self.assertEqual(
            [a.name for a in self.c.query(session="c_query", type="application/json")],
            ["data.json"],
        )
        self.assertEqual(
            [a.name for a in self.c.query(session="c_query", where="score >= 0.9")], ["data.json"]
        )
        self.assertEqual(len(list(self.c.query(session="c_query", latest=True, since="1h"))), 8)
        with self.assertRaises(InvalidRequest) as cm:
            list(self.c.query(where="score >="))
        self.assertTrue(cm.exception.code.startswith("invalid"))

    def test_sessions_session_create_and_seal(self) -> None:
        made = self.c.create_session("c_sess_a", meta={"pipeline": "billing"}, ttl="7d")
        self.assertIsInstance(made, Session)
        self.assertEqual((made.meta, made.sealed), ({"pipeline": "billing"}, False))
        self.c.push(b"x", "c_sess_a", "x.txt")
        self.c.push(b"y", "c_sess_b", "y.txt")
        sealed = self.c.seal("c_sess_b")
        self.assertTrue(sealed.sealed)
        self.assertRegex(sealed.digest or "", r"^[0-9a-f]{64}$")
        self.assertEqual(self.c.seal("c_sess_b").digest, sealed.digest)  # idempotent
        found = [s.id for s in self.c.sessions(meta={"pipeline": "billing"})]
        self.assertEqual(found, ["c_sess_a"])
        sealed_ids = {s.id for s in self.c.sessions(sealed=True, page_size=1)}
        self.assertIn("c_sess_b", sealed_ids)
        self.assertNotIn("c_sess_a", sealed_ids)
        self.assertIn("c_sess_a", {s.id for s in self.c.sessions(sealed=False)})
        one = self.c.session("c_sess_a")
        self.assertEqual(
            (one.artifact_count, [a.name for a in one.artifacts or []]), (1, ["x.txt"])
        )
        with self.assertRaises(NotFound):
            self.c.session("c_sess_missing")

    def test_sealed_session_refuses_changes(self) -> None:
        art = self.c.push(b"final", "c_sealed", "final.txt")
        self.c.seal("c_sealed")
        big = self.file("big.bin", os.urandom(200_000))
        for attempt in (
            lambda: self.c.push(b"late", "c_sealed", "late.txt"),
            lambda: self.c.push(big, "c_sealed"),
            lambda: self.c.delete(art.id),
        ):
            with self.assertRaises(SessionSealed) as cm:
                attempt()
            self.assertEqual((cm.exception.code, cm.exception.status), ("session_sealed", 409))
            self.assertIn("sealed", cm.exception.message)
        self.assertEqual(self.c.session("c_sealed").artifact_count, 1)

    def test_invalid_input_is_invalid_request(self) -> None:
        for name, meta in (("../escape", None), ("ok.txt", {"Bad Key": "v"})):
            with self.assertRaises(InvalidRequest) as cm:
                self.c.push(b"x", "c_invalid", name, meta=meta)
            self.assertEqual(cm.exception.status, 400)
        with self.assertRaises(InvalidRequest) as cm:
            self.c.push(b"x", "c_invalid", "t.txt", ttl="soon")
        self.assertEqual(cm.exception.code, "invalid_duration")

    def test_changed_bytes_are_a_digest_mismatch(self) -> None:
        class Shifty(io.BytesIO):
            """Reads one content while hashed, another when sent: a file changing mid-push."""

            def seek(self, pos: int, whence: int = 0) -> int:
                self.getbuffer()[:3] = b"BAD"
                return super().seek(pos, whence)

        with self.assertRaises(DigestMismatch) as cm:
            self.c.push(Shifty(b"good bytes"), "c_digest", "f.txt")
        self.assertEqual(cm.exception.code, "digest_mismatch")
        with self.assertRaises(NotFound):
            self.c.session("c_digest")  # nothing was stored

    def test_bad_token_and_scopes(self) -> None:
        with self.assertRaises(Unauthorized) as cm:
            Client(server.url, "cairn_not_a_real_token").push(b"x", "c_auth", "x.txt")
        self.assertEqual((cm.exception.status, cm.exception.code), (401, "unauthorized"))
        with self.assertRaises(Unauthorized):
            list(Client(server.url, "cairn_not_a_real_token").query())
        with self.assertRaises(Unauthorized) as cm_head:  # a HEAD answer has no JSON body
            Client(server.url, "cairn_not_a_real_token").has_blob("0" * 64)
        self.assertEqual(cm_head.exception.code, "unauthorized")
        reader = server.admin_json("POST", "/v1/tokens", {"scope": "read", "name": "py-reader"})[
            "token"
        ]
        self.c.push(b"x", "c_auth", "x.txt")
        ro = Client(server.url, reader)
        self.assertEqual(ro.get("c_auth", "x.txt"), b"x")
        with self.assertRaises(Forbidden) as cm2:
            ro.push(b"y", "c_auth", "y.txt")
        self.assertEqual(cm2.exception.status, 403)
        self.assertIsInstance(cm2.exception, CairnError)

    def test_environment_fallbacks(self) -> None:
        with mock.patch.dict(os.environ, {"CAIRN_URL": server.url, "CAIRN_TOKEN": server.token}):
            self.assertEqual(Client().push(b"env", "c_env", "e.txt").size, 3)
        env = {"CAIRN_URL": server.url, "CAIRN_DATA": server.data_dir}
        with mock.patch.dict(os.environ, env):
            os.environ.pop("CAIRN_TOKEN", None)
            self.assertEqual(Client().get("c_env", "e.txt"), b"env")  # admin.token of the data dir

    def test_unreachable_server_is_connection_failed(self) -> None:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        with self.assertRaises(ConnectionFailed) as cm:
            Client(f"http://127.0.0.1:{port}", "t", retries=1).session("x")
        self.assertEqual((cm.exception.code, cm.exception.status), ("connection_failed", 0))


if __name__ == "__main__":
    unittest.main()
