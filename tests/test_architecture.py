"""Import rules: the domain is pure, layers point downward, platforms never import each other; and
what is a platform's stays in its package."""

from __future__ import annotations

import re
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
    for path in (ROOT / "src" / "kalem" / "domain").rglob("*.py"):
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


DOMAIN_PACKAGES = ("orders", "refunds", "billing", "events")


def _imports(path: Path) -> list[str]:
    import ast

    tree = ast.parse(path.read_text())
    return [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module] + [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]


def test_outside_the_domain_only_each_capabilitys_surface_is_imported():
    """A domain capability is a package whose `__init__` names its public surface: production code
    outside the domain imports that surface, never a module inside the package."""
    private = tuple(f"kalem.domain.{name}." for name in DOMAIN_PACKAGES)
    offenders = []
    for path in [*(ROOT / "src" / "kalem").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]:
        if (ROOT / "src" / "kalem" / "domain") in path.parents:
            continue
        offenders += [f"{path.relative_to(ROOT)}: {module}" for module in _imports(path) if module.startswith(private)]
    assert offenders == []


def test_each_capability_names_its_surface():
    import importlib

    for name in DOMAIN_PACKAGES:
        package = importlib.import_module(f"kalem.domain.{name}")
        surface = package.__all__
        assert all(hasattr(package, member) for member in surface), name
        assert (ROOT / "src" / "kalem" / "domain" / name / "__init__.py").read_text().count("def ") == 0, name


def test_each_capability_imports_alone():
    """The capabilities import each other (refunds read orders); each must import first, alone."""
    for name in DOMAIN_PACKAGES:
        result = subprocess.run([sys.executable, "-c", f"import kalem.domain.{name}"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]


#: Other spellings of the platforms than their package names (`Platform.name`).
PLATFORM_SPELLINGS = ("hepsi", "omnitron", "commercelab")


def _named_platforms(path: Path, words: re.Pattern[str]) -> list[str]:
    """Identifiers and string literals (docstrings included; comments are not code) that name a platform."""
    import io
    import tokenize

    kinds = {tokenize.NAME, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    found = []
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type in kinds and words.search(token.string):
            found.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {token.string[:60]!r}")
    return found


def test_use_cases_and_the_store_name_no_platform():
    """A platform's use cases, ids and tables live in its package: `kalem.app` and `kalem.store` (their
    migrations aside, which are history) speak only kalem's terms."""
    from kalem.bootstrap.platforms import PLATFORMS

    words = re.compile("|".join(re.escape(w) for w in (*(p.name for p in PLATFORMS), *PLATFORM_SPELLINGS)),
                       re.IGNORECASE)
    migrations = ROOT / "src" / "kalem" / "store" / "migrations"
    paths = [path for package in ("app", "store") for path in (ROOT / "src" / "kalem" / package).rglob("*.py")
             if migrations not in path.parents]
    assert len(paths) > 20
    assert [hit for path in sorted(paths) for hit in _named_platforms(path, words)] == []


def test_every_platform_package_describes_itself_and_is_listed():
    """Adding a platform is adding its package, whose `PLATFORM` describes it, and its line in
    `kalem.bootstrap.platforms`: a package left out of the list fails here."""
    import importlib
    import pkgutil

    import kalem.platforms
    from kalem.bootstrap.platforms import PLATFORMS

    packages = sorted(m.name for m in pkgutil.iter_modules(kalem.platforms.__path__) if m.ispkg)
    assert len(packages) == 5 and sorted(p.name for p in PLATFORMS) == packages
    for name in packages:
        described = importlib.import_module(f"kalem.platforms.{name}").PLATFORM
        assert described.name == name and described in PLATFORMS
