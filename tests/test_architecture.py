"""Import rules: the domain is pure, layers point downward, dialects never import each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout


def test_domain_modules_import_no_framework():
    forbidden = ("sqlalchemy", "fastapi", "starlette", "pydantic", "httpx", "strawberry", "jinja2")
    for path in (ROOT / "src" / "kalem" / "domain").glob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                assert not any(stripped.split()[1].startswith(name) for name in forbidden), f"{path.name}: {line}"
