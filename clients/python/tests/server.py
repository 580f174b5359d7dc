"""Test helper: a real ``cairn serve`` child process on a free port with a temp data dir."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from typing import Any, Optional

#: The repository root (clients/python/tests/ is three levels down).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
#: clients/python
SDK = os.path.join(ROOT, "clients", "python")
NODE = os.environ.get("NODE") or shutil.which("node") or "node"


class CairnServer:
    """``node bin/cairn.js serve --port 0 --data <tmp>``; ``url`` and admin ``token`` once up."""

    def __init__(self, extra_args: Optional[list[str]] = None) -> None:
        self.data_dir = tempfile.mkdtemp(prefix="cairn-py-")
        self.proc = subprocess.Popen(
            [
                NODE,
                os.path.join(ROOT, "bin", "cairn.js"),
                "serve",
                "--port",
                "0",
                "--data",
                self.data_dir,
                *(extra_args or []),
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._stderr: list[bytes] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self.url = self._await_url()
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        with open(os.path.join(self.data_dir, "admin.token"), encoding="utf-8") as f:
            self.token = f.read().strip()

    def _await_url(self) -> str:
        assert self.proc.stdout is not None
        seen = b""
        timer = threading.Timer(30, self.proc.kill)
        timer.start()
        try:
            for line in self.proc.stdout:
                seen += line
                m = re.search(rb"listening on (\S+)", line)
                if m:
                    return m.group(1).decode()
        finally:
            timer.cancel()
        self.close()
        raise RuntimeError(f"cairn serve did not start: {seen!r} {b''.join(self._stderr)!r}")

    def _drain_stdout(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def admin_json(self, method: str, path: str, body: object) -> dict:
        """An admin call the SDK does not offer (token management), made with urllib."""
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def env(self) -> dict:
        """A process environment pointing the SDK (and cairn CLI) at this server."""
        env = dict(os.environ)
        env.update(
            CAIRN_URL=self.url,
            CAIRN_TOKEN=self.token,
            PYTHONPATH=os.path.join(SDK, "src"),
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    def close(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL) and removes its data dir."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class SharedServer:
    """One real server for all the tests of a module, started by the module's hooks::

        server = SharedServer()
        setUpModule, tearDownModule = server.start, server.close

    Between the two it answers as the :class:`CairnServer` it started (``url``, ``token``,
    ``env()``, …)."""

    def __init__(self) -> None:
        self._server: Optional[CairnServer] = None

    def start(self) -> None:
        self._server = CairnServer()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def __getattr__(self, name: str) -> Any:
        if self._server is None:
            raise RuntimeError(f"SharedServer.{name}: the module's server is not started")
        return getattr(self._server, name)


PYTHON = sys.executable
