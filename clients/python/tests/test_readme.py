"""The README's "Python SDK" pipeline, run as written: agent_b.py starts first and waits,
agent_a.py pushes and seals, B picks up the results. The scripts and the shell block are taken
from the README, so the documentation cannot drift from what works."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

from .server import ROOT, CairnServer


def readme_blocks(section: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block of one ``## section`` of the README."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else len(text)]
    return re.findall(r"^```(\w+)\n(.*?)^```", body, re.S | re.M)


class ReadmePipelineTest(unittest.TestCase):
    def test_two_agent_pipeline_runs_as_written(self) -> None:
        blocks = readme_blocks("Python SDK")
        scripts: dict[str, str] = {}
        for lang, code in blocks:
            m = re.match(r"# (\w+\.py):", code)
            if lang == "python" and m:
                scripts[m.group(1)] = code
        self.assertEqual(sorted(scripts), ["agent_a.py", "agent_b.py"])
        shell = [code for lang, code in blocks if lang == "sh" and "agent_a.py" in code]
        self.assertEqual(len(shell), 1)
        install = [code for lang, code in blocks if lang == "sh" and "pip install" in code]
        self.assertEqual(len(install), 1)

        tmp = tempfile.mkdtemp(prefix="cairn-py-readme-")
        server = CairnServer()
        try:
            for fn, code in scripts.items():
                with open(os.path.join(tmp, fn), "w", encoding="utf-8") as f:
                    f.write(code)
            # Both agents print to one pipe and may finish together. Unbuffered (PYTHONUNBUFFERED
            # set by the caller), print() writes its pieces one by one and the lines interleave
            # mid-line; buffered, each agent's output is one write at exit, which a pipe keeps
            # whole.
            env = server.env()
            env.pop("PYTHONUNBUFFERED", None)
            env.pop("PYTHONPATH", None)  # the agents use the SDK installed by the README's block
            # The install block as written: a venv, then pip from ./clients/python (offline).
            os.symlink(os.path.join(ROOT, "clients"), os.path.join(tmp, "clients"))
            pip_env = dict(env, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
            r = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", install[0]],
                cwd=tmp,
                env=pip_env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            r = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", shell[0]],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = r.stdout
            digest = re.search(r"A sealed billing_q3: ([0-9a-f]{64})", out)
            self.assertIsNotNone(digest, out)
            self.assertIn("B sees billing_q3 sealed with 2 artifacts", out)
            self.assertIn("B read data/rows.json v1: 3 rows, total 60", out)
            with open(os.path.join(tmp, "report-from-a.md"), encoding="utf-8") as f:
                self.assertEqual(f.read(), "# Q3 billing\n\nAll invoices reconciled.\n")
            link = re.search(r"B shared the report: (\S+)", out)
            self.assertIsNotNone(link, out)
            with urllib.request.urlopen(link.group(1)) as resp:  # type: ignore[union-attr]
                self.assertEqual(resp.read(), b"# Q3 billing\n\nAll invoices reconciled.\n")
        finally:
            server.close()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
