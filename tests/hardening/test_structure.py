"""The project's shape (issue 17): no hand-written module of the apps over 800 lines.

A module that grows past that is split by concern (a package with its names re-exported,
or a sibling module such as ``selfmonitor/symptom_services.py``); migrations are generated
and not counted. The tests are not counted either: their tables (the URL sweep's routes)
grow with every feature by design.
"""

from __future__ import annotations

from pathlib import Path

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
