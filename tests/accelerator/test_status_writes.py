"""Every status change of dossiers, consultations and what-if runs goes through its area's
transition check.

The code is read as a syntax tree: a bare ``x.status = …``, a ``setattr(x, "status", …)``, an
``update(…).values(status=…)`` or a raw ``UPDATE … SET status`` outside the one function of
each area that checks the move (``change_status``) fails here, so such a write cannot return.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accelerator", "api", "workflows", "cli")

#: The only functions that write a status: each checks the move against its area's rules.
WRITERS = {
    ("accelerator/dossiers/actions.py", "change_status"),
    ("accelerator/consultations/actions.py", "change_status"),
    ("accelerator/whatif/actions.py", "change_status"),
}
#: Where a row is born: the constructor sets its first status (no move to check).
CREATORS = {
    ("accelerator/dossiers/actions.py", "create_dossier"): "Dossier",
    ("accelerator/consultations/actions.py", "create_consultation"): "Consultation",
    ("accelerator/whatif/actions.py", "queue_run"): "SimulationRun",
}
#: ``setattr`` with a computed name, reviewed: fields on log records, and a route function's
#: body limit (``api.limits.body_limit``), not on rows.
DYNAMIC_SETATTR = {("accelerator/shared/logs.py", "filter"), ("api/limits.py", "decorate")}
#: The checks a writer calls before it writes (a what-if run has no actor to check).
CHECKS = {"check_move", "check_transition"}
STATUS_MODELS = {"Dossier", "Consultation", "SimulationRun"}
RAW_UPDATE = re.compile(
    r"update\s+\"?(dossiers|consultations|simulation_runs)\"?\b.*\bstatus\b", re.I | re.S
)


@dataclass(frozen=True)
class Write:
    """A status write found in the code."""

    path: str
    function: str
    line: int
    how: str


class _Finder(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.stack: list[str] = []
        self.found: list[Write] = []

    def _add(self, node: ast.AST, how: str) -> None:
        function = self.stack[-1] if self.stack else "<module>"
        self.found.append(Write(self.path, function, getattr(node, "lineno", 0), how))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def _targets(self, target: ast.expr) -> None:
        if isinstance(target, ast.Attribute) and target.attr == "status":
            self._add(target, "assignment")
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._targets(element)
        elif isinstance(target, ast.Starred):
            self._targets(target.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._targets(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._targets(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._targets(node.target)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = (
            node.func.id
            if isinstance(node.func, ast.Name)
            else node.func.attr
            if isinstance(node.func, ast.Attribute)
            else ""
        )
        keywords = {k.arg for k in node.keywords}
        if name == "setattr" and len(node.args) >= 2:
            attribute = node.args[1]
            if not isinstance(attribute, ast.Constant):
                self._add(node, "dynamic setattr")
            elif attribute.value == "status":
                self._add(node, "setattr")
        if name in ("values", "update") and (
            "status" in keywords
            or any(
                isinstance(a, ast.Dict)
                and any(isinstance(k, ast.Constant) and k.value == "status" for k in a.keys)
                for a in node.args
            )
        ):
            self._add(node, f"{name}(status=…)")
        if name in STATUS_MODELS and "status" in keywords:
            self._add(node, f"{name}(status=…)")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and RAW_UPDATE.search(node.value):
            self._add(node, "raw UPDATE")


def status_writes(source: str, path: str) -> list[Write]:
    """Every status write in ``source``."""
    finder = _Finder(path)
    finder.visit(ast.parse(source))
    return finder.found


def _allowed(write: Write) -> bool:
    if write.how == "assignment":
        return (write.path, write.function) in WRITERS
    if write.how == "dynamic setattr":
        return (write.path, write.function) in DYNAMIC_SETATTR
    model = CREATORS.get((write.path, write.function))
    return model is not None and write.how == f"{model}(status=…)"


def _product_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_no_status_is_written_outside_its_areas_transition_check() -> None:
    writes = [
        write
        for path in _product_files()
        for write in status_writes(path.read_text(), str(path.relative_to(ROOT)))
    ]
    bare = [w for w in writes if not _allowed(w)]
    assert not bare, "\n".join(f"{w.path}:{w.line} in {w.function}: {w.how}" for w in bare)
    # The two writers exist and do write: the scan looks where it should.
    assert {(w.path, w.function) for w in writes if w.how == "assignment"} == WRITERS


def test_the_writers_check_the_move_before_they_write() -> None:
    for path, function in WRITERS:
        source = (ROOT / path).read_text()
        body = next(
            n
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.FunctionDef) and n.name == function
        )
        checks = [
            n.lineno
            for n in ast.walk(body)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in CHECKS
        ]
        writes = [w.line for w in status_writes(source, path) if w.function == function]
        assert checks and writes, f"{path}::{function}: no check or no write"
        assert min(checks) < min(writes), f"{path}::{function} writes before checking"


@pytest.mark.parametrize(
    ("snippet", "how"),
    [
        ("def f(c):\n    c.status = 'sent'\n", "assignment"),
        ("def f(c, r):\n    c.status, r.x = r.previous_status, 1\n", "assignment"),
        ("def f(c):\n    c.status += 'x'\n", "assignment"),
        ("def f(c):\n    setattr(c, 'status', 'sent')\n", "setattr"),
        ("def f(c, k):\n    setattr(c, k, 'sent')\n", "dynamic setattr"),
        ("def f(s):\n    s.execute(update(Dossier).values(status='filed'))\n", "values(status=…)"),
        ("def f(s):\n    s.execute(update(C).values({'status': 'x'}))\n", "values(status=…)"),
        ("def f(s):\n    s.add(Consultation(status='answered'))\n", "Consultation(status=…)"),
        ("def f(s):\n    s.execute(text('UPDATE dossiers SET status = :s'))\n", "raw UPDATE"),
    ],
)
def test_the_scan_finds_each_kind_of_bare_write(snippet: str, how: str) -> None:
    found = status_writes(snippet, "accelerator/information/actions.py")
    assert [w.how for w in found] == [how]
    assert not any(_allowed(w) for w in found)
