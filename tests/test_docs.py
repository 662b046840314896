"""The user docs name only what exists: every path, `make` target, `kalem` command and option,
`python -m` module and dotted kalem name they mention is in the repository; and the docs cite the
platforms' own documentation, never a file users do not have.

Mentions are read from code (inline spans and fenced blocks) of README.md and docs/*.md:
- a path: a relative name with a file extension, or one starting with a top folder of the repository
  or of src/kalem (`docs/api.md`, `bench/cancel.py`, `platforms/n11/wire.py`, `tests/golden/`).
  It is looked up from the repository, from src/kalem, from src and from docs/ (links between the
  docs); a bare file name anywhere in the repository. `<name>` and `*` match any one segment. Prose
  is read too, for names with a `/`;
- `make TARGET`: a target of the Makefile;
- `kalem COMMAND [SUBCOMMAND] [--option …]`: a command of the CLI (`kalem.cli:app`) with those options;
- `python -m MODULE`: an importable module;
- a dotted name beginning with a kalem package (`app.transaction.OrderTransaction`,
  `kalem.hub.install`): a module of kalem, and the attributes after it.

What users read — the docs, the published contracts and kalem's source, whose docstrings become the
OpenAPI document, the CLI's help and the hub — names no internal notes (a PLATFORMS.md, "seed 003")
and no folder of the old layout (dialects/). README's start-up figure is the one performance.md's
"Setting up" measured.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from functools import cache
from pathlib import Path

import pytest
from typer.main import get_command

ROOT = Path(__file__).resolve().parents[1]
KALEM = ROOT / "src" / "kalem"
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])

#: Written by a running kalem or by the tools, never part of the repository.
RUNTIME = ("var/", ".venv/", ".cache/", "primary/", "standby/")
EXTENSIONS = (".py", ".md", ".json", ".toml", ".lua", ".graphql", ".html", ".css", ".js", ".txt", ".lock",
              ".png", ".sql", ".ini", ".cfg", ".yaml", ".yml")
#: Words of the old layout and of internal notes that user docs must not carry.
FORBIDDEN = [
    (re.compile(r"PLATFORMS\.md"), "PLATFORMS.md, a file users do not have"),
    (re.compile(r"\bseeds?\s+0\d\d\b", re.IGNORECASE), "a seed number"),
    (re.compile(r"\bseed(?:'s| example| document)\b|\bthe seeds?\b", re.IGNORECASE), "the seed documents"),
    (re.compile(r"(?<!tests/)\bdialects/"), "the old dialects/ folder (now platforms/<name>/)"),
]


def _top_folders() -> set[str]:
    repo = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")}
    package = {p.name for p in KALEM.iterdir() if p.is_dir() and not p.name.startswith("_")}
    return repo | package | {"kalem", "dialects"}


TOP = _top_folders()
KALEM_PACKAGES = {p.stem for p in KALEM.iterdir() if not p.name.startswith("_")} | {"kalem"}


def _code(text: str) -> tuple[list[str], list[str]]:
    """The inline code spans and the lines of fenced blocks of a markdown text."""
    blocks, spans, rest, fence = [], [], [], None
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is not None:
            blocks.append(line)
        elif line.startswith("    ") and not stripped.startswith(("-", "|")):
            blocks.append(line)  # an indented code block
        else:
            rest.append(line)
    for match in re.finditer(r"(`+)(.+?)(?<!`)\1(?!`)", "\n".join(rest), re.DOTALL):
        spans.append(" ".join(match.group(2).split()))  # a span may run over a line break
    return spans, blocks


def _prose(text: str) -> list[str]:
    """The lines of a markdown text outside fenced blocks (those hold shell sessions and their output)."""
    lines, fence = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence else stripped[:3]
        elif fence is None:
            lines.append(line)
    return lines


def _commands(spans: list[str], blocks: list[str]) -> list[list[str]]:
    """Shell commands: a span as a whole, or each command of a block line (split at ; && | & $( )."""
    found = []
    for text in [*spans, *blocks]:
        text = text.split(" #", 1)[0]
        for part in re.split(r"&&|\|\||[;|&]|\$\(|\)|`", text):
            words = part.split()
            while words and (words[0] == "$" or re.fullmatch(r"[A-Z_]+=\S*", words[0])):
                words = words[1:]  # a prompt, an environment assignment
            if words:
                found.append(words)
    return found


def _mentions() -> list[tuple[str, str, str]]:
    """(kind, mention, doc) for every mention in the docs."""
    found = []
    for doc in DOCS:
        spans, blocks = _code(doc.read_text())
        name = doc.relative_to(ROOT).as_posix()
        for words in _commands(spans, blocks):
            program = words[0].rsplit("/", 1)[-1]
            if program == "kalem" and len(words) > 1:
                found.append(("kalem", " ".join(words), name))
            elif program == "make" and len(words) > 1:
                found += [("make", word, name) for word in words[1:] if re.fullmatch(r"[a-z][\w-]*", word)]
            elif program.startswith("python") and words[1:2] == ["-m"] and len(words) > 2:
                found.append(("module", words[2], name))
        for line in blocks:  # in code blocks (shell sessions, trees), paths from the repository's top
            for token in re.split(r"[\s,;()\[\]`'\"=>]+", line):
                if token.startswith(("src/", "docs/", "bench/", "tests/")) and _is_path(token.rstrip(".:")):
                    found.append(("path", token.rstrip(".:"), name))
        for span in spans:
            for token in re.split(r"[\s,()]+", span):
                token = token.strip("`'\".:;[]")
                if _is_path(token):
                    found.append(("path", token, name))
                elif _is_dotted(token):
                    found.append(("dotted", token, name))
        for token in re.split(r"[\s,;()\[\]`'\"]+", "\n".join(_prose(doc.read_text()))):
            token = token.rstrip(".:")
            # in prose a name like kalem/pgbench is a ratio: a path there ends in an extension or a /
            if "/" in token and (token.endswith(("/", *EXTENSIONS)) or token.count("/") > 1) and _is_path(token):
                found.append(("path", token, name))
        for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if not re.match(r"[a-z]+:", link):
                found.append(("path", link, name))
    return found


def _is_path(token: str) -> bool:
    token = token.split("::", 1)[0]
    if not token or token.startswith(("/", "http", "~", "-")) or token.startswith(RUNTIME):
        return False
    if re.search(r"[{}|?=@…\\]", token) or not re.fullmatch(r"[\w.<>*/-]+", token):
        return False
    if token.endswith(EXTENSIONS):
        # a bare name: a file's, unless its "extension" reads as an attribute (`tx.lock`, `uv.lock` alike)
        return "/" in token or (re.fullmatch(r"[\w-]+\.[a-z]+", token) is not None and not token.endswith(".lock"))
    return "/" in token and token.split("/", 1)[0] in TOP


def _is_dotted(token: str) -> bool:
    """`package.module.name`: three parts or more, the first a kalem package (two-part names such as
    `orders.place` or `kalem.face` are operation ids and span attributes as often as modules)."""
    return (re.fullmatch(r"[a-z_]\w*(\.[A-Za-z_]\w*){2,}", token) is not None
            and token.split(".", 1)[0] in KALEM_PACKAGES and not token.endswith(EXTENSIONS))


def _path_exists(token: str) -> bool:
    token = token.split("::", 1)[0].rstrip("/")
    pattern = re.sub(r"<[^>]*>", "*", token)
    if "/" not in pattern:
        return any(ROOT.glob(f"**/{pattern}"))
    bases = [ROOT, KALEM, KALEM.parent, ROOT / "docs"]
    return any(any(base.glob(pattern)) if "*" in pattern else (base / pattern).exists() for base in bases)


@cache
def _make_targets() -> frozenset[str]:
    text = (ROOT / "Makefile").read_text()
    return frozenset(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.MULTILINE))


@cache
def _cli():
    from kalem.cli import app
    return get_command(app)


def _kalem_problem(words: list[str]) -> str | None:
    """Why `kalem WORDS…` is not a command line of the CLI, or None."""
    command, context = _cli(), []
    rest = [w.strip("[]") for w in words[1:]]
    while rest and hasattr(command, "commands") and not rest[0].startswith("-"):
        if rest[0] not in command.commands:
            return f"no command {' '.join([*context, rest[0]])!r}"
        context.append(rest[0])
        command = command.commands[rest.pop(0)]
    if hasattr(command, "commands") and not rest:
        return f"{' '.join(context)!r} needs a subcommand"
    options = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}
    if command is not _cli():
        options |= {"--help"}
    else:
        options |= {opt for param in _cli().params for opt in param.opts}
    unknown = [w.split("=", 1)[0] for w in rest if w.startswith("--") and w.split("=", 1)[0] not in options]
    return f"{' '.join(context) or 'kalem'} has no option {', '.join(unknown)}" if unknown else None


def _dotted_exists(token: str) -> bool:
    parts = token.removeprefix("kalem.").split(".")
    for cut in range(len(parts), 0, -1):
        name = "kalem." + ".".join(parts[:cut])
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ModuleNotFoundError:
            continue
        target = importlib.import_module(name)
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


MENTIONS = _mentions()


def _ids(kind: str) -> list:
    seen, out = set(), []
    for k, mention, doc in MENTIONS:
        if k == kind and (mention, doc) not in seen:
            seen.add((mention, doc))
            out.append(pytest.param(mention, doc, id=f"{doc}:{mention}"))
    return out


def test_the_docs_mention_each_kind():
    """The reader finds what it should: paths, make targets, CLI commands and kalem names, in numbers."""
    kinds = {kind for kind, _, _ in MENTIONS}
    assert {"path", "make", "kalem", "module", "dotted"} <= kinds
    assert len(_ids("path")) > 100 and len(_ids("kalem")) > 20


@pytest.mark.parametrize(("path", "doc"), _ids("path"))
def test_path_exists(path, doc):
    assert _path_exists(path), f"{doc} names {path}, which is not in the repository"


@pytest.mark.parametrize(("target", "doc"), _ids("make"))
def test_make_target_exists(target, doc):
    assert target in _make_targets(), f"{doc}: `make {target}` is not a target of the Makefile"


@pytest.mark.parametrize(("command", "doc"), _ids("kalem"))
def test_kalem_command_exists(command, doc):
    problem = _kalem_problem(command.split())
    assert problem is None, f"{doc}: `{command}`: {problem}"


@pytest.mark.parametrize(("module", "doc"), _ids("module"))
def test_python_module_exists(module, doc):
    sys.path.insert(0, str(ROOT))  # `python -m tests.…` runs from the repository
    try:
        assert importlib.util.find_spec(module) is not None, f"{doc}: no module {module}"
    finally:
        sys.path.remove(str(ROOT))


@pytest.mark.parametrize(("name", "doc"), _ids("dotted"))
def test_kalem_name_exists(name, doc):
    assert _dotted_exists(name), f"{doc} names {name}, which kalem does not have"


def _user_text() -> list[Path]:
    """What users read: the docs, the published contracts, and kalem's own source (its docstrings become
    the OpenAPI document, the CLI's help and the hub's pages)."""
    files = [*DOCS, ROOT / "docs" / "openapi.json", ROOT / "docs" / "zonos.graphql"]
    files += [p for p in KALEM.rglob("*") if p.is_file() and p.suffix in (".py", ".html", ".json", ".toml")]
    return files


def test_docs_cite_public_documentation_only():
    found = []
    for path in _user_text():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for pattern, why in FORBIDDEN:
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {why}: {line.strip()[:100]}")
    assert not found, "\n".join(found)


def test_readme_start_up_figure_is_the_measured_one():
    """README quotes the wall time and CPU time of `make run` from a fresh clone; both are those the
    "Setting up" section of docs/performance.md measured (bench/first_answer.py rewrites it)."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    setup = (ROOT / "docs" / "performance.md").read_text().split("<!-- bench:setup -->")[1]
    quoted = re.search(r"`make run` answered after ([\d.]+) s .*?using ([\d.]+) s of CPU", readme)
    measured_wall = re.search(r"\*\*first answer\*\* \| \*\*([\d.]+) s\*\*", setup)
    measured_cpu = re.search(r"user \+ system\): ([\d.]+) s", setup)
    assert quoted and measured_wall and measured_cpu, "the figure or its section is gone"
    assert round(float(quoted.group(1))) == round(float(measured_wall.group(1)))
    assert float(quoted.group(2)) == float(measured_cpu.group(1))


def test_the_checks_catch_what_they_should():
    """The checks themselves: a made-up path, target, command, option and name are refused."""
    assert _is_path("src/kalem/nowhere.py") and not _path_exists("src/kalem/nowhere.py")
    assert _is_path("dialects/n11/") and not _path_exists("dialects/n11/")
    assert _path_exists("platforms/<name>/face/") and _path_exists("tests/golden/manifest/*.toml")
    assert not _is_path("application/json") and not _is_path("/v1/orders/{n}")
    assert "nonexistent" not in _make_targets() and "run" in _make_targets()
    assert _kalem_problem(["kalem", "frobnicate"]) and _kalem_problem(["kalem", "worker", "--nope"])
    assert _kalem_problem(["kalem", "token", "create", "--role", "seller", "--n11"]) is None
    assert _is_dotted("app.transaction.OrderTransaction") and not _dotted_exists("app.transaction.Nope")
    assert not _is_dotted("ctx.auth.bearer") and not _is_dotted("webhooks.claim")
    assert any(p.search("see PLATFORMS.md §2") for p, _ in FORBIDDEN)
    assert any(p.search("wire-compatible with seed 003") for p, _ in FORBIDDEN)
    assert any(p.search("src/kalem/dialects/akinon/") for p, _ in FORBIDDEN)
    assert not any(p.search("tests/dialects/test_n11.py") for p, _ in FORBIDDEN)
    assert not any(p.search("15 examples each, fixed seed") for p, _ in FORBIDDEN)
