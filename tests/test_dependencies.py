"""Every third-party package kalem's code imports is declared in pyproject.toml: a package that only
arrives with another one (Starlette with FastAPI, graphql-core with Strawberry) may stop arriving
with it in any release.

The import statements under src/kalem are read (not run); the standard library's modules are left
out, and each imported top-level name is mapped to the distributions that install it
(`importlib.metadata.packages_distributions`). One of them must be in `[project] dependencies` — or
in an optional extra, where the package is only needed by a developer's tool (`kalem.devtools`) or
imported where it is used (inside a function, or guarded by `except ImportError`), as the
OpenTelemetry exporter is: kalem itself then imports without that extra.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEVTOOLS = ("kalem", "devtools")


def normalised(requirement: str) -> str:
    """A distribution's name as the packaging standards compare them: no extras, markers or versions,
    lower case, each run of `-`, `_` and `.` one `-`."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert name, requirement
    return re.sub(r"[-_.]+", "-", name.group(1)).lower()


def declared(project: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The distributions kalem requires, and those only an extra brings (an extra may name another,
    as `kalem[otel]`)."""
    required = {normalised(r) for r in project.get("dependencies", [])}
    extras: set[str] = set()
    for requirements in project.get("optional-dependencies", {}).values():
        extras |= {normalised(r) for r in requirements} - {normalised(project["name"])}
    return required, extras - required


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """Each top-level module an import statement names, and whether it runs only when used (inside a
    function, under `if TYPE_CHECKING`, or guarded by `except ImportError`)."""
    def walk(node: ast.AST, deferred: bool) -> Iterator[tuple[str, bool]]:
        if isinstance(node, ast.Import):
            yield from ((alias.name.split(".")[0], deferred) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], deferred
        for child in ast.iter_child_nodes(node):
            yield from walk(child, deferred or _defers(node, child))
    yield from walk(ast.parse(path.read_text(), str(path)), False)


def _defers(parent: ast.AST, child: ast.AST) -> bool:
    if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return True
    if isinstance(parent, ast.If) and child in parent.body and "TYPE_CHECKING" in ast.unparse(parent.test):
        return True
    return isinstance(parent, ast.Try) and child in parent.body and any(
        handler.type is not None and re.search(r"\b(ImportError|ModuleNotFoundError)\b", ast.unparse(handler.type))
        for handler in parent.handlers)


def undeclared(source: Path, project: dict[str, Any]) -> list[str]:
    """What `source` (a directory holding the `kalem` package) imports without declaring it."""
    required, extras = declared(project)
    installs = {name: {normalised(d) for d in dists} for name, dists in packages_distributions().items()}
    found = []
    for path in sorted((source / "kalem").rglob("*.py")):
        module = path.relative_to(source).with_suffix("").parts
        for name, deferred in imports(path):
            if name in sys.stdlib_module_names or name == "kalem":
                continue
            distributions = installs.get(name, set())
            optional = deferred or module[:2] == DEVTOOLS
            if not distributions & required and not (optional and distributions & extras):
                where = "no installed distribution" if not distributions else ", ".join(sorted(distributions))
                found.append(f"{'/'.join(module)}.py imports {name} ({where})")
    return found


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_every_package_kalem_imports_is_declared():
    assert undeclared(ROOT / "src", pyproject()) == []


def test_the_check_finds_an_undeclared_import(tmp_path):
    """The check on a tree of its own: what it must refuse, and what it must let pass."""
    package = tmp_path / "kalem"
    (package / "devtools").mkdir(parents=True)
    (package / "refused.py").write_text(
        "import schemathesis\n"                  # installed for the tests only: an extra, and imported eagerly
        "from kalem_no_such_package import x\n"  # installed by nothing
        "try:\n    import jinja2, pytest\nexcept ValueError:\n    pass\n")   # pytest: not guarded by ImportError
    (package / "allowed.py").write_text(
        "from __future__ import annotations\nimport json, os.path\nimport sqlalchemy.orm\n"
        "from typing import TYPE_CHECKING\nfrom . import refused\nfrom kalem.store import hot\n"
        "from jinja2 import Template\n"
        "if TYPE_CHECKING:\n    import httpx\n"
        "try:\n    import hypothesis\nexcept ImportError:\n    hypothesis = None\n"
        "def traced():\n    from opentelemetry import trace\n    import pytest\n")
    (package / "devtools" / "tool.py").write_text("import playwright\nimport pytest\n")
    assert undeclared(tmp_path, pyproject()) == [
        "kalem/refused.py imports schemathesis (schemathesis)",
        "kalem/refused.py imports kalem_no_such_package (no installed distribution)",
        "kalem/refused.py imports pytest (pytest)",
    ]
    # Without its declaration a required package is refused too.
    project = pyproject()
    project = {**project, "dependencies": [r for r in project["dependencies"] if normalised(r) != "graphql-core"]}
    assert [line for line in undeclared(ROOT / "src", project) if " graphql " in line]
    assert normalised("uvicorn[standard]>=0.29") == "uvicorn"
    assert normalised("Foo.Bar__baz ; python_version<'4'") == "foo-bar-baz"
