"""A PEP 517 build backend for the Cairn SDK, standard library only.

Why not setuptools: setuptools before 70.1 needs the third-party ``wheel`` package to build a
wheel, and Python 3.12+ venvs ship no setuptools at all, so an air-gapped
``pip install ./clients/python`` would fail for want of packages that are not on the machine.
This backend has no requirements, so pip can build the package offline with or without build
isolation. It builds pure-Python ``py3-none-any`` wheels of ``src/cairn`` (``*.py`` and
``py.typed``), an sdist, and editable wheels (PEP 660, a ``.pth`` file pointing at ``src``).
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "cairn"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _section() -> str:
    """The [project] table of pyproject.toml as text (no tomllib on Python 3.9 and 3.10)."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    return text.split("\n[project]\n", 1)[1].split("\n[", 1)[0]


def _project() -> Dict[str, str]:
    """The string fields of [project] this backend uses (the simple subset pyproject.toml has)."""
    section = _section()
    strings = dict(re.findall(r'^([\w-]+)\s*=\s*"([^"]*)"', section, re.M))
    lic = re.search(r'^license\s*=\s*\{\s*text\s*=\s*"([^"]*)"', section, re.M)
    return {
        "name": strings["name"],
        "version": strings["version"],
        "summary": strings.get("description", ""),
        "requires_python": strings.get("requires-python", ""),
        "license": lic.group(1) if lic else "",
    }


def _classifiers() -> List[str]:
    return re.findall(r'"([^"]+::[^"]+)"', _section())


def _dist_name() -> str:
    return re.sub(r"[-_.]+", "_", str(_project()["name"])).lower()


def _dist_info() -> str:
    return f"{_dist_name()}-{_project()['version']}.dist-info"


def _metadata() -> bytes:
    p = _project()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {p['name']}",
        f"Version: {p['version']}",
        f"Summary: {p['summary']}",
        f"License: {p['license']}",
        f"Requires-Python: {p['requires_python']}",
    ]
    lines += [f"Classifier: {c}" for c in _classifiers()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _wheel_file() -> bytes:
    return b"Wheel-Version: 1.0\nGenerator: cairn_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _package_files() -> List[Tuple[str, str]]:
    """(path inside the wheel, path on disk) of every shipped file, sorted."""
    out = []
    src = os.path.join(ROOT, "src")
    for dirpath, dirnames, filenames in os.walk(os.path.join(src, PACKAGE)):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(filenames):
            if fn.endswith(".py") or fn == "py.typed":
                full = os.path.join(dirpath, fn)
                out.append((os.path.relpath(full, src).replace(os.sep, "/"), full))
    return out


def _write_wheel(directory: str, entries: List[Tuple[str, bytes]]) -> str:
    """Writes a wheel with these entries plus its dist-info; returns its file name."""
    info = _dist_info()
    entries = entries + [
        (f"{info}/METADATA", _metadata()),
        (f"{info}/WHEEL", _wheel_file()),
    ]
    record = io.StringIO()
    for arc, data in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{arc},sha256={digest},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    entries.append((f"{info}/RECORD", record.getvalue().encode("utf-8")))
    name = f"{_dist_name()}-{_project()['version']}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for arc, data in entries:
            zi = zipfile.ZipInfo(arc, _EPOCH)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return name


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    """Nothing: the backend is standard library only."""
    return []


get_requires_for_build_sdist = get_requires_for_build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: Optional[Dict[str, Any]] = None
) -> str:
    """Writes the .dist-info directory (METADATA, WHEEL) and returns its name."""
    info = _dist_info()
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    for fn, data in (("METADATA", _metadata()), ("WHEEL", _wheel_file())):
        with open(os.path.join(metadata_directory, info, fn), "wb") as f:
            f.write(data)
    return info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    """Builds the pure-Python wheel of src/cairn; returns its file name."""
    return _write_wheel(wheel_directory, [(arc, _read(full)) for arc, full in _package_files()])


def build_editable(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    """Builds an editable wheel: a .pth file that puts this checkout's src/ on sys.path."""
    pth = (os.path.join(ROOT, "src") + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [(f"__editable__.{_dist_name()}.pth", pth)])


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    """Builds an sdist (pyproject.toml, the backend, the package, PKG-INFO); returns its name."""
    base = f"{_dist_name()}-{_project()['version']}"
    name = f"{base}.tar.gz"
    files = [("pyproject.toml", os.path.join(ROOT, "pyproject.toml"))]
    files.append(("_build/cairn_build.py", os.path.abspath(__file__)))
    files += [(f"src/{arc}", full) for arc, full in _package_files()]
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        entries = [(arc, _read(full)) for arc, full in files] + [("PKG-INFO", _metadata())]
        for arc, data in entries:
            ti = tarfile.TarInfo(f"{base}/{arc}")
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    return name
