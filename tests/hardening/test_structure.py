"""The project's shape (issue 17): no import circle between the project's modules, and
no hand-written module of the apps over 800 lines.

The circles are found by ``manage.py import_graph`` (read from the source with ``ast``,
imports inside functions counted, ``if TYPE_CHECKING:`` not).

A module that grows past 800 lines is split by concern (a package with its names re-exported,
or a sibling module such as ``selfmonitor/symptom_services.py``); migrations are generated
and not counted. The tests are not counted either: their tables (the URL sweep's routes)
grow with every feature by design.
"""

from __future__ import annotations

from pathlib import Path

from careplan.management.commands.import_graph import build, strongly_connected

ROOT = Path(__file__).resolve().parents[2]
APPS = ("careplan", "contacts", "selfmonitor", "rehab")
MAX_LINES = 800


def _hand_written_modules() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]


def test_it_finds_the_apps_modules():
    modules = {str(p.relative_to(ROOT)) for p in _hand_written_modules()}
    assert {"careplan/access.py", "contacts/services.py", "rehab/models.py"} <= modules
    assert not any("/migrations/" in m for m in modules)


def test_no_hand_written_module_is_over_800_lines():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in _hand_written_modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_no_import_circle_between_the_projects_modules():
    graph, edges = build()
    assert {"careplan.access", "contacts.handover.services", "rehab.admin"} <= set(graph)
    assert any(e.inner for e in edges)  # imports inside functions are read too
    assert strongly_connected(graph) == []
