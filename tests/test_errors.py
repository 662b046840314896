"""One class per stable error code, and every class in the one hierarchy of domain/errors.py's docstring."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import kalem
from kalem.domain import errors
from kalem.domain.errors import KalemError

TREE_LINE = re.compile(r"^    (?P<indent>(?:│   |    )*)(?:[├└]── )?(?P<name>[A-Z]\w+)(?: \((?P<status>\d{3})\))?")


def _classes() -> list[type[KalemError]]:
    for module in pkgutil.walk_packages(kalem.__path__, "kalem."):
        if not module.name.startswith("kalem.devtools"):
            importlib.import_module(module.name)
    found, todo = [], [KalemError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _tree() -> dict[str, tuple[str | None, int | None]]:
    """name → (parent name, status written beside it) from the docstring's tree."""
    doc = errors.__doc__ or ""
    tree: dict[str, tuple[str | None, int | None]] = {}
    parents: list[str] = []
    for line in doc.splitlines():
        match = TREE_LINE.match(line)
        if match is None or not line.lstrip(" │").startswith(("├", "└", "KalemError")):
            continue
        depth = len(match["indent"]) // 4 + (0 if match["name"] == "KalemError" else 1)
        name = match["name"]
        assert name not in tree, f"{name} is listed twice"
        del parents[depth:]
        tree[name] = (parents[-1] if parents else None, int(match["status"]) if match["status"] else None)
        parents.append(name)
    return tree


def test_every_code_has_exactly_one_class():
    by_code: dict[str, list[str]] = {}
    for cls in _classes():
        by_code.setdefault(cls.code, []).append(f"{cls.__module__}.{cls.__qualname__}")
    shared = {code: names for code, names in by_code.items() if len(names) > 1}
    assert not shared, f"codes with more than one class: {shared}"


def test_the_docstring_lists_every_class_under_its_parent_with_its_status():
    classes = _classes()
    tree = _tree()
    names = [cls.__name__ for cls in classes]
    assert len(names) == len(set(names)), "two error classes share a name"
    assert set(tree) == set(names), (f"missing from the tree: {sorted(set(names) - set(tree))}; "
                                     f"listed but gone: {sorted(set(tree) - set(names))}")
    for cls in classes:
        parent, status = tree[cls.__name__]
        base = cls.__bases__[0]
        assert parent == (None if cls is KalemError else base.__name__), f"{cls.__name__} sits under {parent}"
        if "status" in cls.__dict__:  # a status of its own is written beside the name
            assert status == cls.status, f"{cls.__name__}: the tree says {status}, the class {cls.status}"
        else:
            assert status is None, f"{cls.__name__} inherits its status; the tree says {status}"


def test_no_error_code_is_rewritten_on_an_instance():
    src = Path(errors.__file__).parents[1]
    offenders = [f"{path.relative_to(src)}:{n}" for path in src.rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"\b(?!self\b)\w+\.code\s*=[^=]", line)]
    assert not offenders, offenders
