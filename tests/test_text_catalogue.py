"""The text catalogue holds every key the code names, with the parameters it is given, and
nothing nobody uses; and no French sentence is written in the code instead of the catalogue
(accelerator/shared/text.py)."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator, Mapping
from pathlib import Path

from babel.messages.pofile import read_po
from jinja2 import Environment, nodes

from accelerator.shared import text

ROOT = Path(__file__).resolve().parent.parent
CODE = ("accelerator", "api", "workflows", "cli", "reports")


def _python_files() -> Iterator[Path]:
    for package in CODE:
        yield from (ROOT / package).rglob("*.py")


def _template_files() -> Iterator[Path]:
    for package in CODE:
        for suffix in ("*.j2", "*.html", "*.txt"):
            yield from (ROOT / package).rglob(suffix)


def _calls() -> Iterator[tuple[str, str, frozenset[str] | None]]:
    """(where, key, keyword names given, or None when ``**params`` are passed on or the
    message is a template filled later, ``t_template``)."""
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("t", "t_template")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names = {k.arg for k in node.keywords}
                given = None if None in names else frozenset(n for n in names if n)
                if node.func.id == "t_template":
                    given = None
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0].value, given
    for path in _template_files():
        yield from _template_calls(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))


def _template_calls(source: str, where: str) -> Iterator[tuple[str, str, frozenset[str] | None]]:
    """A template's ``t("key", name=...)`` calls, read by Jinja's own parser."""
    for call in Environment().parse(source).find_all(nodes.Call):
        if (
            isinstance(call.node, nodes.Name)
            and call.node.name == "t"
            and call.args
            and isinstance(call.args[0], nodes.Const)
            and isinstance(call.args[0].value, str)
        ):
            given = None if call.dyn_kwargs is not None else frozenset(k.key for k in call.kwargs)
            yield f"{where}:{call.lineno}", call.args[0].value, given


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
        literals.update(key for _, key, _ in _template_calls(path.read_text("utf-8"), ""))
    unused = sorted(set(text.messages()) - literals)
    assert not unused, f"messages que le code ne nomme pas : {unused}"


def test_a_message_is_filled_with_its_parameters() -> None:
    assert "32 caractères" in text.t("config.secret_key_too_short")


#: What French prose looks like: an accented letter, or a French word English does not use.
FRENCH = re.compile(
    r"[éèêëàâçùûôîïœÉÈÊÀÂÇÔÎ]|\b(?:le|la|les|l'|d'|n'|qu'|de|du|des|un|une|et|est|sont|pas|ne|"
    r"que|qui|pour|par|sur|dans|avec|au|aux|ce|cette|ces|sa|ses|votre|vos|vous|il|elle|doit|"
    r"aucun|aucune|ou|puis|mais|dont|introuvable|inconnu|inconnue|attendu|attendue|invalide|"
    r"obligatoire|fichier|délai)\b",
    re.IGNORECASE,
)
#: Calls whose text is for operators, not users: logging (``log.info``, ``logger.warning``...)
#: and ``workflows.steps.summary``, a flow's batch summary written with ``log.info``.
LOGGING = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})
LOGGING_FUNCTIONS = frozenset({"summary"})
#: Developer documentation in the OpenAPI document (``description=``, ``summary=``,
#: ``openapi_extra=``, a response's ``"description"``): in English or French as written.
OPENAPI_DOCS = frozenset({"description", "summary", "openapi_extra"})

#: The few French literals that stay in the code, by file and by the top-level name they sit
#: in (an assignment's target, a function or class) or by their exact text; ``*``: the file.
ALLOWED: dict[tuple[str, str], str] = {
    # Sample data written into a demonstration database (names, dossiers), not messages.
    ("accelerator/demo/actions.py", "*"): "données de démonstration",
    # Settings defaults an operator replaces by environment variables (a sender, a name).
    ("accelerator/shared/config.py", "Settings"): "valeurs par défaut de réglages",
    # The responses' descriptions in the OpenAPI document, for developers.
    ("api/contract.py", "DESCRIPTIONS"): "documentation OpenAPI",
    # The CSV routes' descriptions in the OpenAPI document, beside each table's query.
    ("accelerator/metrics/queries.py", "TABLES"): "documentation OpenAPI",
    # Identifiers of access scopes, in English (« référent » is a glossary word).
    ("api/policies.py", "Scope"): "identifiants en anglais",
}


def _docstrings(tree: ast.Module) -> set[ast.AST]:
    owners = [
        tree,
        *(
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ),
    ]
    return {
        owner.body[0].value
        for owner in owners
        if owner.body
        and isinstance(owner.body[0], ast.Expr)
        and isinstance(owner.body[0].value, ast.Constant)
    }


def _not_for_users(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside a logging call's arguments or the OpenAPI documentation."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.Call) and child in parent.args:
            function = parent.func
            if isinstance(function, ast.Attribute) and function.attr in LOGGING:
                return True
            if isinstance(function, ast.Name) and function.id in LOGGING_FUNCTIONS:
                return True
        if isinstance(parent, ast.keyword) and parent.arg in OPENAPI_DOCS:
            return True
        if isinstance(parent, ast.Dict) and any(
            value is child and isinstance(key, ast.Constant) and key.value == "description"
            for key, value in zip(parent.keys, parent.values, strict=True)
        ):
            return True
        child, parent = parent, parents.get(parent)
    return False


def _top_level_name(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    while not isinstance(parents.get(node), ast.Module):
        node = parents[node]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return ""


def _text(node: ast.Constant | ast.JoinedStr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    return "{}".join(v.value for v in node.values if isinstance(v, ast.Constant))


def french_literals(
    path: Path, relative: str, allowed: Mapping[tuple[str, str], str] = ALLOWED
) -> list[tuple[int, str]]:
    """The French-looking strings of ``path`` a user would read, outside the catalogue."""
    if (relative, "*") in allowed:
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if isinstance(parents.get(node), ast.JoinedStr | ast.FormattedValue):
                continue  # part of an f-string, judged whole
        elif not isinstance(node, ast.JoinedStr):
            continue
        text = _text(node)
        if node in docstrings or " " not in text or not FRENCH.search(text):
            continue
        if _not_for_users(node, parents):
            continue
        if (relative, text) in allowed or (relative, _top_level_name(node, parents)) in allowed:
            continue
        found.append((node.lineno, text))
    return sorted(found)


def test_no_french_sentence_is_written_outside_the_catalogue() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} : « {text[:80]} »"
        for path in _python_files()
        for line, text in french_literals(path, str(path.relative_to(ROOT)))
    ]
    assert not found, "textes à mettre au catalogue (shared/text.t) :\n" + "\n".join(found)


def test_every_allowed_literal_is_still_there() -> None:
    for (relative, where), reason in ALLOWED.items():
        others = {key: why for key, why in ALLOWED.items() if key != (relative, where)}
        path = ROOT / relative
        assert french_literals(path, relative, others), (
            f"{relative} ({where}) : {reason}, plus utile"
        )


def test_the_scan_sees_a_french_sentence_and_spares_logs_and_docstrings(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    source = (
        '"""Un docstring en français, épargné."""\n'
        "import logging\n"
        "log = logging.getLogger(__name__)\n"
        "def f(x: int) -> str:\n"
        '    """Docstring : épargné aussi."""\n'
        '    log.info("journal pour les opérateurs : %s", x)\n'
        '    return f"Le dossier {x} est introuvable."\n'
        'MESSAGE = "Délai dépassé"\n'
        'CODE = "dossier_not_found"\n'
    )
    module.write_text(source, encoding="utf-8")
    found = french_literals(module, "accelerator/probe.py")
    assert found == [(7, "Le dossier {} est introuvable."), (8, "Délai dépassé")]


#: A template's Jinja parts (expressions, statements, comments) and its HTML tags: what is left
#: between them is the text a reader sees, and must come from ``t(...)``.
JINJA_PARTS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
HTML_TAG = re.compile(r"<[^>]*>")
QUOTED = re.compile(r"""(["'])((?:(?!\1).)*)\1""", re.DOTALL)


def french_in_template(source: str) -> list[tuple[int, str]]:
    """The French a template writes itself: prose between its tags, or a quoted string with a
    space in an expression or an HTML attribute (``'voir le dossier'``, ``title="Fermer la
    fenêtre"``); a catalogue key has no space, a ``{# comment #}`` is for developers."""
    found: list[tuple[int, str]] = []

    def blank(part: re.Match[str]) -> str:
        if not part.group().startswith("{#"):
            line = source.count("\n", 0, part.start()) + 1
            found.extend(
                (line, quoted.group(2))
                for quoted in QUOTED.finditer(part.group())
                if " " in quoted.group(2) and FRENCH.search(quoted.group(2))
            )
        return re.sub(r"[^\n]", " ", part.group())  # keeps the line numbers

    prose = HTML_TAG.sub(blank, JINJA_PARTS.sub(blank, source))
    found.extend(
        (number, line.strip())
        for number, line in enumerate(prose.splitlines(), 1)
        if FRENCH.search(line)
    )
    return sorted(found)


def test_no_template_writes_french_outside_the_catalogue() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} : « {text[:80]} »"
        for path in _template_files()
        for line, text in french_in_template(path.read_text(encoding="utf-8"))
    ]
    assert not found, "textes à mettre au catalogue (t(...) dans le gabarit) :\n" + "\n".join(found)


def test_the_template_scan_sees_prose_attributes_and_literals() -> None:
    source = (
        "{% block subject %}Dossier {{ reference }} déposé{% endblock %}\n"
        '<p style="font-family: Marianne, sans-serif;">{{ t("mail.layout.brand") }}</p>\n'
        '<button title="Fermer la fenêtre" class="fr-btn fr-btn--sm">x</button>\n'
        "{{ due_at or 'voir le dossier' }}{# un commentaire pour les développeurs #}\n"
        "<p>{{ item.text | replace('\\n', '\\n  ') }}</p>\n"
    )
    assert french_in_template(source) == [
        (1, "Dossier                 déposé"),
        (3, "Fermer la fenêtre"),
        (4, "voir le dossier"),
    ]


def test_a_template_call_is_read_with_its_parameters() -> None:
    source = '{{ t("mail.dossier_filed.filed", title=title, reference=ref) }}\n{{ t("a.b") }}'
    assert list(_template_calls(source, "probe.j2")) == [
        ("probe.j2:1", "mail.dossier_filed.filed", frozenset({"title", "reference"})),
        ("probe.j2:2", "a.b", frozenset()),
    ]
