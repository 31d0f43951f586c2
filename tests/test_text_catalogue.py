"""The text catalogue holds every key the code names, with the parameters it is given, and
nothing nobody uses (accelerator/shared/text.py)."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

from babel.messages.pofile import read_po

from accelerator.shared import text

ROOT = Path(__file__).resolve().parent.parent
CODE = ("accelerator", "api", "workflows", "cli")
#: ``t("key")`` or ``t('key', ...)`` in a template.
TEMPLATE_CALL = re.compile(r"""\bt\(\s*["']([a-z0-9_.-]+)["']""")


def _python_files() -> Iterator[Path]:
    for package in CODE:
        yield from (ROOT / package).rglob("*.py")


def _template_files() -> Iterator[Path]:
    for package in CODE:
        for suffix in ("*.j2", "*.html", "*.txt"):
            yield from (ROOT / package).rglob(suffix)


def _calls() -> Iterator[tuple[str, str, frozenset[str] | None]]:
    """(where, key, keyword names given, or None when ``**params`` are passed on)."""
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names = {k.arg for k in node.keywords}
                given = None if None in names else frozenset(n for n in names if n)
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0].value, given
    for path in _template_files():
        for match in TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8")):
            yield str(path.relative_to(ROOT)), match.group(1), None


def _fields(message: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(message) if name)


def test_the_catalogue_reads_cleanly() -> None:
    with text.CATALOGUE.open("rb") as file:
        catalogue = read_po(file, locale=text.LANGUAGE)
    assert catalogue.fuzzy is False
    for message in catalogue:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        assert message.string, f"{message.id} : message vide"
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", str(message.id)), message.id
        _fields(str(message.string))  # raises on a malformed placeholder


def test_every_key_named_by_the_code_exists_with_its_parameters() -> None:
    messages = text.messages()
    problems = []
    for where, key, given in _calls():
        if key not in messages:
            problems.append(f"{where} : clé absente du catalogue « {key} »")
        elif given is not None and given != _fields(messages[key]):
            expected = sorted(_fields(messages[key]))
            problems.append(f"{where} : « {key} » attend {expected}, reçoit {sorted(given)}")
    assert not problems, "\n".join(problems)


def test_the_catalogue_holds_no_message_nobody_uses() -> None:
    literals: set[str] = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
    for path in _template_files():
        literals.update(m.group(1) for m in TEMPLATE_CALL.finditer(path.read_text("utf-8")))
    unused = sorted(set(text.messages()) - literals)
    assert not unused, f"messages que le code ne nomme pas : {unused}"


def test_a_message_is_filled_with_its_parameters() -> None:
    assert "32 caractères" in text.t("config.secret_key_too_short")
