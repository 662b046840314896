"""One class per stable error code, every class in the one hierarchy of domain/errors.py's docstring,
every raise naming a precise code, and every code written once."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kalem
from kalem.domain import errors
from kalem.domain.errors import KalemError

TREE_LINE = re.compile(
    r"^    (?P<indent>(?:│   |    )*)(?:[├└]── )?(?P<name>[A-Z]\w+)(?P<star>\*)?(?: \((?P<status>\d{3})\))?")
SRC = Path(next(iter(kalem.__path__)))   # kalem is a namespace package: its one folder


@cache
def _sources() -> list[tuple[str, dict[str, Any], ast.Module]]:
    """(path, module namespace, syntax tree) of every source file of kalem, its dev tools aside; every
    module imported, so that all error classes exist (Alembic's scripts run only inside Alembic: their
    names are looked up among the error classes)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC.parent)
        if relative.parts[1] == "devtools":
            continue
        name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        namespace = {} if "migrations" in relative.parts else vars(importlib.import_module(name))
        found.append((str(relative), namespace, ast.parse(path.read_text())))
    return found


def _classes() -> list[type[KalemError]]:
    _sources()
    found, todo = [], [KalemError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _tree() -> dict[str, tuple[str | None, int | None, bool]]:
    """name → (parent name, status written beside it, starred) from the docstring's tree."""
    doc = errors.__doc__ or ""
    tree: dict[str, tuple[str | None, int | None, bool]] = {}
    parents: list[str] = []
    for line in doc.splitlines():
        match = TREE_LINE.match(line)
        if match is None or not line.lstrip(" │").startswith(("├", "└", "KalemError")):
            continue
        depth = len(match["indent"]) // 4 + (0 if match["name"] == "KalemError" else 1)
        name = match["name"]
        assert name not in tree, f"{name} is listed twice"
        del parents[depth:]
        tree[name] = (parents[-1] if parents else None, int(match["status"]) if match["status"] else None,
                      bool(match["star"]))
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
        parent, status, _ = tree[cls.__name__]
        base = cls.__bases__[0]
        assert parent == (None if cls is KalemError else base.__name__), f"{cls.__name__} sits under {parent}"
        if "status" in cls.__dict__:  # a status of its own is written beside the name
            assert status == cls.status, f"{cls.__name__}: the tree says {status}, the class {cls.status}"
        else:
            assert status is None, f"{cls.__name__} inherits its status; the tree says {status}"


def test_the_faces_keep_the_codes_their_wire_was_built_with():
    """A starred leaf shows the faces the code of the class raised in its place before (its parent's,
    mostly), a code of the tree; every other class shows its own."""
    tree, classes = _tree(), _classes()
    codes = {cls.code for cls in classes}
    for cls in classes:
        if tree[cls.__name__][2]:
            assert cls.face_code != cls.code and cls.face_code in codes, f"{cls.__name__} shows {cls.face_code}"
        else:
            assert cls.face_code == cls.code, f"{cls.__name__} is not starred, yet shows {cls.face_code}"


def test_no_error_code_is_rewritten_on_an_instance():
    src = Path(errors.__file__).parents[1]
    offenders = [f"{path.relative_to(src)}:{n}" for path in src.rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"\b(?!self\b|cls\b)\w+\.(?:face_)?code\s*=[^=]", line)]
    assert not offenders, offenders


# --- every raise names a precise code ------------------------------------------------------------

@cache
def _by_name() -> dict[str, type[KalemError]]:
    return {cls.__name__: cls for cls in _classes()}


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> object:
    """What a name or a dotted name stands for in a module (a name imported inside a function: the
    error class of that name), or None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    found: object = namespace.get(node.id, _by_name().get(node.id))
    for part in reversed(parts):
        found = getattr(found, part, None)
    return found


def _is_parent(found: object) -> bool:
    """A class of the tree that has subclasses, or the root: a kind of problem, not a precise one."""
    return isinstance(found, type) and issubclass(found, KalemError) and (
        found is KalemError or bool(found.__subclasses__()))


def test_every_raise_names_a_precise_error():
    """`raise X(...)` names a leaf of the tree: a parent's code (`invalid_input`, `not_found`,
    `conflict`…) tells a client the kind of problem, never which one."""
    offenders = []
    for path, namespace, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                raised = _resolve(node.exc.func if isinstance(node.exc, ast.Call) else node.exc, namespace)
                if _is_parent(raised):
                    offenders.append(f"{path}:{node.lineno} raises {raised.__name__}")  # type: ignore[union-attr]
    assert not offenders, offenders


#: Calls that take an error class to test against, not to raise.
_TESTS = ("isinstance", "issubclass", "exception_handler")


def _error_values(node: ast.AST, namespace: dict[str, Any]) -> Iterator[tuple[ast.AST, type]]:
    """Error classes used as values under `node`: passed, returned, kept in a table or as a default.
    Not: caught, tested, read (`InvalidInput.code`), subclassed, annotated or raised (see above)."""
    if isinstance(node, ast.Name | ast.Attribute):
        found = _resolve(node, namespace)
        if isinstance(found, type) and issubclass(found, KalemError):
            yield node, found
        elif found is None and isinstance(node, ast.Attribute):
            yield from _error_values(node.value, namespace)   # `make().error`: what `make` is given
        return
    skipped: set[str] = set()
    if isinstance(node, ast.ExceptHandler):
        skipped = {"type"}
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        skipped = {"returns"}
    elif isinstance(node, ast.arg | ast.AnnAssign):
        skipped = {"annotation"}
    elif isinstance(node, ast.ClassDef):
        skipped = {"bases", "keywords"}
    elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
        yield from (found for child in (*node.exc.args, *node.exc.keywords)
                    for found in _error_values(child, namespace))
        return
    elif isinstance(node, ast.Call) and (getattr(node.func, "id", None) in _TESTS
                                         or getattr(node.func, "attr", None) in _TESTS):
        skipped = {"args"}
    for field, value in ast.iter_fields(node):
        if field in skipped:
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                yield from _error_values(child, namespace)


def test_an_error_class_handed_on_to_be_raised_is_precise_too():
    """An error chosen at run time — a state machine's, a helper's `error=`, a table of refusals — is
    raised where the scan above cannot see which: wherever an error class is a value, it is a leaf."""
    offenders = [f"{path}:{node.lineno} uses {found.__name__}"  # type: ignore[attr-defined]
                 for path, namespace, tree in _sources() for node, found in _error_values(tree, namespace)
                 if _is_parent(found)]
    assert not offenders, offenders


# --- every code is written once ------------------------------------------------------------------

#: Modules whose upper-case constants are codes no error class carries: the HTTP edge's refusals
#: (kalem's, for every face) and the Zonos face's GraphQL codes.
CODE_MODULES = ("kalem/api/error_bodies.py", "kalem/platforms/zonos/face/codes.py")
#: Strings that equal a code yet are no code where they stand, each with its reason.
NOT_CODES: dict[str, str] = {
    "required": "JSON Schema's keyword in the schemas the faces publish (Akinon's `Required` has DRF's "
                "code, the same word)",
}
#: Files that may write codes, each with its reason.
QUOTING: dict[str, str] = {
    "kalem/api/examples.py": "the OpenAPI document's examples, recorded from the demo: bodies as they were "
                             "sent, an error body among them",
}


def _definitions(path: str, tree: ast.Module) -> Iterator[ast.Constant]:
    """The string literals that define a code in this file: an error class's `code = "..."`, a code
    module's `NAME = "..."`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                        "code" in {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
                        for target in statement.targets):
                    yield from (n for n in ast.walk(statement.value) if isinstance(n, ast.Constant))
    if path in CODE_MODULES:
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and all(
                    isinstance(t, ast.Name) and t.id.isupper() for t in statement.targets):
                yield from (n for n in ast.walk(statement.value) if isinstance(n, ast.Constant))


def test_every_code_is_written_once_where_it_is_defined():
    """A code is written as a literal once: in its class (`code = "..."`) or as a code module's
    constant; everywhere else it is named (`InvalidInput.code`, `INVALID_REQUEST`), so a code cannot
    drift between the raise, the face that maps it and the docs."""
    constants = {value for path, namespace, _ in _sources() if path in CODE_MODULES
                 for name, value in namespace.items() if name.isupper() and isinstance(value, str)}
    class_codes = {cls.code for cls in _classes()}
    assert not constants & class_codes, f"codes both a class's and a constant: {constants & class_codes}"
    codes = constants | class_codes | {code.upper() for code in class_codes}
    offenders = []
    for path, _, tree in _sources():
        defining = {id(node) for node in _definitions(path, tree)}
        offenders += [f"{path}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in codes
                      and id(node) not in defining and node.value not in NOT_CODES and path not in QUOTING]
    assert not offenders, offenders


def test_the_api_docs_list_every_native_code():
    """docs/api.md's error table names every code the native API may answer with: every leaf's but the
    platforms' own and the hub's, and the HTTP edge's."""
    text = (SRC.parents[1] / "docs" / "api.md").read_text()
    section = text[text.index("## Errors"):]
    table = set(re.findall(r"`([a-z_]+)`", section[:section.index("\n## ")]))
    leaves = {cls.code for cls in _classes() if not cls.__subclasses__()
              and not cls.__module__.startswith(("kalem.platforms.", "kalem.hub."))}
    edge = {value for path, namespace, _ in _sources() if path == "kalem/api/error_bodies.py"
            for name, value in namespace.items() if name.isupper() and isinstance(value, str)}
    assert not (leaves | edge) - table, f"missing from docs/api.md's error table: {sorted((leaves | edge) - table)}"
