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


def test_each_app_keeps_its_own_faces(tmp_path):
    """Faces' error renderers and body claims, and the hub's order-page sections, live on the app they
    were built into: building another app (tests build many) neither grows nor shares them."""
    from kalem.bootstrap.api import build_app
    from kalem.config import Settings
    from kalem.store.db import Database

    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", secret_key="k" * 32)
    db = Database.connect(settings.database_url)
    try:
        first, second = build_app(settings, db), build_app(settings, db)
    finally:
        db.dispose()
    for app in (first, second):
        assert len(app.state.error_renderers) == 5 and len(app.state.intake_claims) == 1
        assert app.state.hub_sections == ()
    assert first.state.error_renderers is not second.state.error_renderers
