"""Client.push_dir against a real Cairn server: batches, all-or-none, sync, exclude, links."""

import os
import shutil
import tempfile
import unittest

from cairn import Client, InvalidRequest

from .server import SharedServer

server = SharedServer()
setUpModule, tearDownModule = server.start, server.close


class PushDirTest(unittest.TestCase):
    def setUp(self) -> None:
        self.c = Client(server.url, server.token)
        self.tmp = tempfile.mkdtemp(prefix="cairn-py-dir-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def tree(self, n: int) -> str:
        root = os.path.join(self.tmp, "tree")
        for i in range(n):
            d = os.path.join(root, f"d{i % 20}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"f{i}.json"), "w") as f:
                f.write('{"i": %d, "pad": "%s"}' % (i, "x" * 900))
        return root

    def test_pushes_a_tree_in_batches_and_every_file_reads_back(self) -> None:
        root = self.tree(1100)
        big = os.path.join(root, "big.bin")
        with open(big, "wb") as f:
            f.write(b"\x01" * (9 * 1024 * 1024))
        arts = self.c.push_dir(root, "py_dir", meta={"run": 1}, prefix="out/")
        self.assertEqual(len(arts), 1101)
        self.assertEqual(arts[0].name, "out/big.bin")
        self.assertEqual(arts[1].meta, {"run": "1"})
        with open(os.path.join(root, "d5", "f5.json"), "rb") as f:
            self.assertEqual(self.c.get("py_dir", "out/d5/f5.json"), f.read())
        self.assertEqual(len(self.c.session("py_dir").artifacts), 1101)

    def test_sync_pushes_only_what_changed(self) -> None:
        root = self.tree(40)
        self.assertEqual(len(self.c.push_dir(root, "py_sync", sync=True)), 40)
        self.assertEqual(self.c.push_dir(root, "py_sync", sync=True), [])
        with open(os.path.join(root, "d1", "f1.json"), "w") as f:
            f.write("changed")
        again = self.c.push_dir(root, "py_sync", sync=True)
        self.assertEqual([(a.name, a.version) for a in again], [("d1/f1.json", 2)])

    def test_exclude_and_symlinks(self) -> None:
        root = os.path.join(self.tmp, "ex")
        os.makedirs(os.path.join(root, "logs"))
        for name in ("a.txt", "b.log", "logs/c.txt"):
            with open(os.path.join(root, name), "w") as f:
                f.write(name)
        os.symlink(os.path.join(root, "a.txt"), os.path.join(root, "link.txt"))
        names = [a.name for a in self.c.push_dir(root, "py_ex", exclude=["*.log", "logs"])]
        self.assertEqual(names, ["a.txt"])
        followed = self.c.push_dir(root, "py_ex2", exclude=["logs/*"], follow_symlinks=True)
        self.assertEqual([a.name for a in followed], ["a.txt", "b.log", "link.txt"])

    def test_a_bad_name_refuses_the_whole_batch(self) -> None:
        root = os.path.join(self.tmp, "bad")
        os.makedirs(root)
        for name in ("a.txt", "b\x07.txt"):
            with open(os.path.join(root, name), "w") as f:
                f.write("x")
        with self.assertRaises(InvalidRequest) as ctx:
            self.c.push_dir(root, "py_bad")
        self.assertIn("control characters", str(ctx.exception))
        self.assertEqual(list(self.c.query(session="py_bad")), [])
