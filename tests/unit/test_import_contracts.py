"""The code's layers (pyproject.toml, ``[tool.importlinter]``) hold, and a module that
reaches up a layer is caught."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    # lint-imports reads the package from its working directory first.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_layers_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "violation", "broken"),
    [
        (
            "sentoffers/domain/rules.py",
            "import sentoffers.server.store.tables",
            "sentoffers.domain is not allowed to import sentoffers.server",
        ),
        (
            "sentoffers/server/store/codec.py",
            "import sentoffers.server.features.offers.service",
            "sentoffers.server.store is not allowed to import sentoffers.server.features",
        ),
        (
            "sentoffers/connector/pipeline.py",
            "import sentoffers.sandbox.adapter",
            "sentoffers.connector is not allowed to import sentoffers.sandbox",
        ),
        (
            "sentoffers/client/_base.py",
            "import sqlalchemy",
            "sentoffers.client is not allowed to import sqlalchemy",
        ),
    ],
)
def test_a_module_reaching_up_a_layer_breaks_the_contract(
    tmp_path: Path, module: str, violation: str, broken: str
) -> None:
    shutil.copytree(
        ROOT / "sentoffers", tmp_path / "sentoffers", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{violation}  # deliberate\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert broken in " ".join(result.stdout.split()), result.stdout


@pytest.mark.parametrize(
    ("package", "never_loaded"),
    [
        ("sentoffers.client", ("fastapi", "starlette", "sqlalchemy", "jinja2", "redis")),
        ("sentoffers.connector", ("sentoffers.sandbox", "sentoffers.server", "jinja2")),
    ],
)
def test_importing_a_package_loads_nothing_above_it(
    package: str, never_loaded: tuple[str, ...]
) -> None:
    probe = (
        f"import sys, {package}\nprint(' '.join(m for m in {never_loaded!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
