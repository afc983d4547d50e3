"""What users install: the wheel's names, metadata and entry points, installed into fresh environments.

The wheel is built from this checkout with pip (hatchling from the test extra, no build isolation, so
nothing is downloaded). Fresh virtual environments get the wheel with ``--no-deps``; their
dependencies come from an existing environment through a ``.pth`` line (a path line does not run
that environment's own ``.pth`` files, so the checkout's editable install stays out of the way).
Commands run from a temporary folder, so the checkout is never on ``sys.path`` by accident.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT
from test_mcp_adapters import adapters_python  # noqa: F401 - the mcp<2 environment fixture

from rh_tools import __version__
from rh_tools.toolspecs import GENERIC_TOOL_NAMES

WHEEL_TOP_LEVEL = {"rh_tools", "rh_mcp", f"rh_tools-{__version__}.dist-info"}


def _run(cmd: list[str | Path], *, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    drop = ("RUNNINGHUB_", "RH_MCP_", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"{' '.join(proc.args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _purelib(python: Path | str) -> str:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index", "--no-build-isolation"]
    _ok(_run([*build, "-w", out, ROOT], cwd=out, timeout=300))
    (found,) = out.glob("rh_tools-*.whl")
    return found


def _venv_with_wheel(where: Path, wheel: Path, deps_from: Path | str) -> Path:
    """A new venv holding only the wheel; imports it cannot satisfy come from ``deps_from``'s site-packages."""
    _ok(_run([sys.executable, "-m", "venv", "--without-pip", where], cwd=where.parent))
    python = where / "bin" / "python"
    (Path(_purelib(python)) / "_deps_for_test.pth").write_text(_purelib(deps_from) + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index"]
    _ok(_run([*pip, wheel], cwd=where.parent))
    return python


def test_wheel_installs_project_names_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(f"rh_tools-{__version__}.dist-info/METADATA").decode()
        entry_points = zf.read(f"rh_tools-{__version__}.dist-info/entry_points.txt").decode()
        license_text = zf.read(f"rh_tools-{__version__}.dist-info/licenses/LICENSE").decode()
    assert {n.split("/")[0] for n in names} == WHEEL_TOP_LEVEL  # no generic `mcp_server`, no tests/, no dev/
    assert "rh_mcp/__main__.py" in names and "rh_mcp/server.py" in names
    assert "rh_tools/catalogue/endpoints.json" in names and "rh_tools/py.typed" in names
    assert "rh-mcp = rh_mcp.__main__:main" in entry_points and "rh-tools = rh_tools.cli:main" in entry_points
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "License-Expression: Apache-2.0" in meta and "Requires-Python: >=3.10" in meta
    assert "Classifier: Programming Language :: Python :: 3.10" in meta
    assert "Project-URL: RunningHub API reference, https://www.runninghub.ai/runninghub-api-doc-en/" in meta


def test_wheel_runs_rh_mcp_and_python_m_rh_mcp(wheel: Path, tmp_path: Path) -> None:
    python = _venv_with_wheel(tmp_path / "venv", wheel, sys.executable)
    bin_dir = python.parent
    where = _ok(
        _run([python, "-c", "import rh_tools, rh_mcp; print(rh_tools.__file__, rh_mcp.__file__)"], cwd=tmp_path)
    )
    assert all(Path(p).is_relative_to(tmp_path / "venv") for p in where.split())  # the wheel's copy, not the checkout
    missing = _run([python, "-c", "import mcp_server"], cwd=tmp_path)
    assert missing.returncode != 0 and "No module named 'mcp_server'" in missing.stderr

    assert "usage: rh-mcp" in _ok(_run([bin_dir / "rh-mcp", "--help"], cwd=tmp_path))
    assert _ok(_run([bin_dir / "rh-mcp", "--version"], cwd=tmp_path)).strip() == f"rh-mcp {__version__}"
    listed = _run([python, "-m", "rh_mcp", "--list-tools"], cwd=tmp_path)
    assert _ok(listed).split()[:3] == ["search_models", "describe_model", "run_model"]
    assert f"{len(GENERIC_TOOL_NAMES)} tools" in listed.stderr
    assert "usage: rh-tools" in _ok(_run([bin_dir / "rh-tools", "--help"], cwd=tmp_path))


async def test_installed_rh_mcp_speaks_mcp_over_stdio(wheel: Path, tmp_path: Path) -> None:
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    python = _venv_with_wheel(tmp_path / "venv", wheel, sys.executable)
    params = StdioServerParameters(
        command=str(python.parent / "rh-mcp"), args=["--tools", "grok_image_to_image"], cwd=str(tmp_path)
    )
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        described = await client.call_tool("describe_model", {"name": "grok_image_to_image"})
    assert "grok_image_to_image" in {t.name for t in tools} and len(tools) == len(GENERIC_TOOL_NAMES) + 1
    assert not described.is_error


def test_rh_mcp_beside_mcp_1x_explains_instead_of_breaking_the_adapters(
    wheel: Path,
    tmp_path: Path,
    adapters_python: Path,  # noqa: F811 - fixture imported above
) -> None:
    # langchain-mcp-adapters' environment (mcp<2) with rh-tools installed into a copy beside it.
    python = _venv_with_wheel(tmp_path / "venv", wheel, adapters_python)
    rh_mcp = python.parent / "rh-mcp"
    assert (
        _ok(_run([python, "-c", "import mcp, importlib.metadata as m; print(m.version('mcp'))"], cwd=tmp_path))[0]
        == "1"
    )
    assert "usage: rh-mcp" in _ok(_run([rh_mcp, "--help"], cwd=tmp_path))  # flags still documented

    for cmd in ([rh_mcp], [python, "-m", "rh_mcp", "--list-tools"]):
        proc = _run(cmd, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        text = proc.stderr
        assert "Traceback" not in text
        assert "rh-mcp needs mcp>=2,<3, but this environment has mcp 1." in text
        assert "langchain-mcp-adapters (mcp<2" in text
        # The fix it gives installs into an environment of its own, from this very wheel.
        assert f'uvx --from "rh-tools[mcp] @ {wheel.as_uri()}" rh-mcp' in text
        assert f'pipx install "rh-tools[mcp] @ {wheel.as_uri()}"' in text
        assert "pip install 'rh-tools[mcp]'" not in text and "--upgrade" not in text
    # The adapters' environment itself was not touched.
    assert (
        _ok(
            _run([adapters_python, "-c", "import mcp, importlib.metadata as m; print(m.version('mcp'))"], cwd=tmp_path)
        )[0]
        == "1"
    )


def test_editable_install_serves_the_checkout_as_rh_mcp(tmp_path: Path) -> None:
    # The dev install (pip install -e .) maps the same names onto the live files of mcp_server/.
    code = (
        "import json, importlib.metadata as m, rh_mcp, rh_mcp.__main__ as main_mod; "
        "ep = m.entry_points(group='console_scripts')['rh-mcp']; "
        "print(json.dumps([rh_mcp.__file__, main_mod.__file__, ep.value, ep.load().__module__]))"
    )
    file, main_file, value, module = json.loads(_ok(_run([sys.executable, "-c", code], cwd=tmp_path)))
    assert Path(file) == ROOT / "mcp_server" / "__init__.py" and Path(main_file) == ROOT / "mcp_server" / "__main__.py"
    assert value == "rh_mcp.__main__:main" and module == "rh_mcp.__main__"
    assert _ok(_run([sys.executable, "-m", "rh_mcp", "--version"], cwd=tmp_path)).strip() == f"rh-mcp {__version__}"
    scripts = Path(sysconfig.get_path("scripts"))
    assert "usage: rh-mcp" in _ok(_run([scripts / "rh-mcp", "--help"], cwd=tmp_path))
