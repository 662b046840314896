"""The fidelity manifest: every documented item of each platform, how kalem matches it, and the tests
that prove it. One TOML file per platform in `tests/golden/manifest/`; `docs/fidelity.md` is rendered
from them (`make fidelity`), and `test_manifest.py` fails when the page is stale, when an item names
no test, or when a named test does not exist.

An item:

    [[item]]
    id = "hebiar.create-cancel-request"        # unique, stable
    what = "POST /Orders/CreateOrderItemLineCancelRequest: body, auth, response"
    source = "Hebiar OMS's API documentation (CreateOrderItemLineCancelRequest)"  # the public page it follows
    match = "exact"                              # or "differs"
    difference = "…"                             # required when match = "differs": what and why
    tests = ["tests/golden/test_hebiar.py::test_documented_create_cancel_request"]
"""

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = Path(__file__).with_name("manifest")
PAGE = ROOT / "docs" / "fidelity.md"
PLATFORMS = {  # file stem → heading, in the page's order
    "hebiar": "Hebiar OMS",
    "n11": "n11 REST",
    "hepsiglobal": "HepsiGlobal Marketplace API",
    "akinon": "Akinon Omnitron",
    "zonos": "Zonos GraphQL",
}
INTRO = """# Fidelity of the platform faces

Each face is meant to be a drop-in for its platform: a client written from the platform's
documentation works against kalem with only the base URL and the credential changed. This page lists
every documented item of each platform around an order line after checkout, with the public
documentation it comes from (Hebiar OMS's API documentation, n11's REST API documentation, the
HepsiGlobal Marketplace API documentation, Akinon Omnitron's API reference, the Zonos GraphQL API
reference), whether kalem matches it exactly, and where it does not, the precise difference and why.
"NOT DOCUMENTED" marks what the platform's documentation leaves open, and what kalem chose there. Each
item names the tests that prove it; the page is generated from that list (`make fidelity`), and the
test suite fails when the page is stale or an item has no test.
"""


@dataclass(frozen=True)
class Item:
    platform: str
    id: str
    what: str
    source: str
    match: str
    difference: str
    tests: tuple[str, ...]


def items() -> list[Item]:
    found = []
    for stem in PLATFORMS:
        path = MANIFESTS / f"{stem}.toml"
        if not path.exists():
            continue
        for raw in tomllib.loads(path.read_text()).get("item", []):
            found.append(Item(stem, raw["id"], raw["what"], raw["source"], raw["match"],
                              raw.get("difference", ""), tuple(raw.get("tests", ()))))
    return found


def problems(all_items: list[Item]) -> list[str]:
    """Why the manifest is not trustworthy: duplicate ids, bad fields, missing or unknown tests."""
    found, seen = [], set()
    for item in all_items:
        label = f"{item.platform}:{item.id}"
        if item.id in seen:
            found.append(f"{label}: duplicate id")
        seen.add(item.id)
        if item.match not in ("exact", "differs"):
            found.append(f"{label}: match must be 'exact' or 'differs', not {item.match!r}")
        if item.match == "differs" and not item.difference.strip():
            found.append(f"{label}: 'differs' without a difference")
        if not item.tests:
            found.append(f"{label}: no test")
        found += [f"{label}: no such test {test}" for test in item.tests if not _exists(test)]
    return found


def _exists(node_id: str) -> bool:
    file, _, name = node_id.partition("::")
    parts = name.split("[")[0].split("::")
    return bool(parts[0]) and parts[-1] in _definitions(file)


@cache
def _definitions(file: str) -> frozenset[str]:
    path = ROOT / file
    if not path.is_file():
        return frozenset()
    tree = ast.parse(path.read_text())
    return frozenset(node.name for node in ast.walk(tree)
                     if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))


def render(all_items: list[Item]) -> str:
    lines = [INTRO]
    for stem, heading in PLATFORMS.items():
        mine = [item for item in all_items if item.platform == stem]
        if not mine:
            continue
        exact = sum(item.match == "exact" for item in mine)
        lines += [f"## {heading}", "", f"{exact} of {len(mine)} items exact.", "",
                  "| Item | Source | Match | Tests |", "|---|---|---|---|"]
        for item in mine:
            match = "exact" if item.match == "exact" else f"differs: {item.difference.strip()}"
            tests = "<br>".join(f"`{test.split('::', 1)[-1]}`" for test in item.tests)
            lines.append(f"| {_cell(item.what)} | {_cell(item.source)} | {_cell(match)} | {tests} |")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":
    sys.stdout.write(render(items()))
