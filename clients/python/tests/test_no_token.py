"""Outside the server's directory there is no admin token file: the SDK sends no token (an
empty CAIRN_TOKEN counts as none) and the 401 says where it looked and what to set."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from .server import CairnServer

SCRIPT = r"""
from cairn import Client, Unauthorized
try:
    Client().push(b"x", "no_token", "x.txt")
except Unauthorized as e:
    print(e.message)
"""


class NoTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = CairnServer()
        cls.tmp = tempfile.mkdtemp(prefix="cairn-py-notoken-")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_script(self, **env: str) -> str:
        full = self.server.env()
        full.pop("CAIRN_DATA", None)
        full.update(env)
        r = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            cwd=self.tmp,
            env=full,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def test_missing_token_says_where_it_looked(self) -> None:
        for env in ({"CAIRN_TOKEN": ""}, {"CAIRN_TOKEN": "", "CAIRN_DATA": "elsewhere"}):
            msg = self.run_script(**env)
            where = os.path.join(os.path.realpath(self.tmp), env.get("CAIRN_DATA", "cairn-data"))
            self.assertIn(f"{where}/admin.token does not exist", msg)
            for part in ("no token", "CAIRN_TOKEN", "token=", "cairn token create"):
                self.assertIn(part, msg)
            self.assertNotIn("send Authorization", msg)

    def test_a_wrong_token_keeps_the_server_message(self) -> None:
        msg = self.run_script(CAIRN_TOKEN="cairn_wrong")
        self.assertNotIn("no token", msg)
        self.assertTrue(msg)


if __name__ == "__main__":
    unittest.main()
