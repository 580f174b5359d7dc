"""`pip install ./clients/python` works offline: into a fresh venv, with the network made
unreachable (a dead proxy) and no pip configuration, the package builds with its in-tree,
standard-library-only backend, installs with py.typed, and talks to a real server."""

import os
import shutil
import subprocess
import tempfile
import unittest
import zipfile

from .server import PYTHON, ROOT, SDK, CairnServer

#: Every way pip could reach a network leads to a closed loopback port.
DEAD = "http://127.0.0.1:9"

ROUND_TRIP = r"""
import os, sys, cairn
from cairn import Client
assert os.path.dirname(cairn.__file__).startswith(sys.prefix), cairn.__file__
assert os.path.isfile(os.path.join(os.path.dirname(cairn.__file__), "py.typed"))
c = Client()
art = c.push(b"installed", "pip_install", "ok.txt")
print(c.get("pip_install", "ok.txt").decode(), art.version)
"""


def offline_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("PIP_", "PYTHON"))}
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env[k] = DEAD
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_RETRIES="0",
        PIP_TIMEOUT="5",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


class InstallTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="cairn-py-pip-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_ok(self, args: list, **kw: object) -> subprocess.CompletedProcess:
        r = subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]
        self.assertEqual(r.returncode, 0, f"{args}\n{r.stdout}\n{r.stderr}")
        return r

    def test_pip_install_offline_into_a_fresh_venv(self) -> None:
        venv = os.path.join(self.tmp, "venv")
        self.run_ok([PYTHON, "-m", "venv", venv])
        pip = os.path.join(venv, "bin", "pip")
        # The README's command, verbatim, from the repository root.
        self.run_ok([pip, "install", "./clients/python"], cwd=ROOT, env=offline_env())
        debris = [n for n in os.listdir(SDK) if n == "build" or n.endswith(".egg-info")]
        self.assertEqual(debris, [])  # the source tree is left as it was
        server = CairnServer()
        try:
            env = offline_env()
            env.update(CAIRN_URL=server.url, CAIRN_TOKEN=server.token)
            r = self.run_ok(
                [os.path.join(venv, "bin", "python"), "-c", ROUND_TRIP], cwd=self.tmp, env=env
            )
        finally:
            server.close()
        self.assertEqual(r.stdout.split(), ["installed", "1"])

    def test_wheel_holds_the_package_its_types_and_a_valid_record(self) -> None:
        self.run_ok(
            [PYTHON, "-m", "pip", "wheel", "--no-deps", "--no-index", "-w", self.tmp, SDK],
            env=offline_env(),
        )
        (wheel,) = [n for n in os.listdir(self.tmp) if n.endswith(".whl")]
        self.assertEqual(wheel, "cairn_client-0.1.0-py3-none-any.whl")
        with zipfile.ZipFile(os.path.join(self.tmp, wheel)) as z:
            names = set(z.namelist())
            record = z.read("cairn_client-0.1.0.dist-info/RECORD").decode()
            metadata = z.read("cairn_client-0.1.0.dist-info/METADATA").decode()
        for n in ("cairn/__init__.py", "cairn/client.py", "cairn/py.typed"):
            self.assertIn(n, names)
        self.assertFalse(any("tests" in n or "__pycache__" in n for n in names))
        self.assertEqual({line.split(",")[0] for line in record.splitlines()}, names)
        self.assertIn("Requires-Python: >=3.9", metadata)
        self.assertNotIn("Requires-Dist", metadata)  # no dependency at all


if __name__ == "__main__":
    unittest.main()
