"""One set of versions everywhere: requirements.txt, Binder (binder/), the installed .venv, the
Python range of the Makefile, pyproject.toml and the README; and `make install` refuses a
Python outside that range with one clear line."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    """name -> version of every `name==version` line of requirements.txt (names lower-case)."""
    out = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"requirements.txt: {line!r} is not pinned with =="
            out[name.strip().lower()] = version.strip()
    return out


def binder_deps() -> dict[str, str]:
    """name -> version spec of binder/environment.yml's conda dependencies."""
    text = (ROOT / "binder" / "environment.yml").read_text()
    deps = text.split("dependencies:", 1)[1]
    out = {}
    for item in re.findall(r"^\s*-\s*([^\s#]+)", deps, flags=re.M):
        name, _, version = item.partition("=")
        out[name] = version
    return out


def supported_pythons() -> list[str]:
    m = re.search(r"^PY_SUPPORTED\s*:?=\s*(.+)$", (ROOT / "Makefile").read_text(), flags=re.M)
    assert m, "Makefile: no PY_SUPPORTED line"
    return m.group(1).split()


def test_binder_torch_is_the_tested_torch():
    assert binder_deps().get("pytorch-cpu") == pins()["torch"], (
        "binder/environment.yml must pin pytorch-cpu to requirements.txt's torch version")


def test_binder_python_is_supported_and_pinned():
    python = binder_deps().get("python")
    assert python in supported_pythons(), f"Binder's python={python} is not a supported version"


def test_binder_installs_everything_else_from_requirements():
    """postBuild's own commands: every requirements line but torch, and torch's version."""
    post = (ROOT / "binder" / "postBuild").read_text()
    grep = re.search(r"^grep .*requirements\.txt", post, flags=re.M).group(0)
    sed = re.search(r"^want=\$\((.*)\)$", post, flags=re.M).group(1)
    kept = subprocess.run(["bash", "-c", grep], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    names = {line.split("==")[0].lower() for line in kept.splitlines()
             if line.strip() and not line.startswith("#")}
    assert names == set(pins()) - {"torch"}
    want = subprocess.run(["bash", "-c", sed], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert want == pins()["torch"]


def test_installed_packages_are_the_pinned_ones():
    """The environment the tests run in is the one requirements.txt describes."""
    wrong = []
    for name, version in pins().items():
        try:
            have = metadata.version(name).split("+")[0]
        except metadata.PackageNotFoundError:
            wrong.append(f"{name}: not installed")
            continue
        if have != version:
            wrong.append(f"{name}: {have} installed, {version} pinned")
    assert not wrong, "; ".join(wrong)


def test_python_range_is_stated_the_same_everywhere():
    versions = supported_pythons()
    spec = SpecifierSet(re.search(r'requires-python\s*=\s*"([^"]+)"',
                                  (ROOT / "pyproject.toml").read_text()).group(1))
    minors = [f"3.{k}" for k in range(6, 20)]
    assert [v for v in minors if f"{v}.0" in spec] == versions
    readme = (ROOT / "README.md").read_text()
    assert f"Python {versions[0]} to {versions[-1]}" in readme
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert here in versions, f"the tests run on Python {here}, outside {versions}"


def _fake_python(tmp_path: Path, version: str) -> Path:
    """A 'python' that reports ``version`` and fails at anything else (creating a venv)."""
    fake = tmp_path / f"python{version}"
    fake.write_text("#!/bin/sh\n"
                    f'case "$*" in *version_info*) echo {version};; '
                    '*) echo "fake python: reached $*"; exit 3;; esac\n')
    fake.chmod(0o755)
    return fake


@pytest.mark.parametrize("version, accepted", [("3.10", False), ("3.14", False),
                                               ("3.11", True), ("3.13", True)])
def test_make_install_checks_python(tmp_path, version, accepted):
    fake = _fake_python(tmp_path, version)
    run = subprocess.run(["make", "-C", str(ROOT), "install", f"PYTHON={fake}",
                          f"VENV={tmp_path / 'venv'}"],
                         capture_output=True, text=True, timeout=60)
    out = run.stdout + run.stderr
    assert run.returncode != 0                     # the fake python cannot make a venv either
    refused = [line for line in out.splitlines() if "needs Python 3.11 to 3.13" in line]
    if accepted:
        assert not refused and "fake python: reached -m venv" in out, out
    else:
        assert len(refused) == 1 and f"is {version}" in refused[0], out
        assert "reached" not in out, out
