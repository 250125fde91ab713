"""The repository keeps the promises of SPEC §1-§2: layout, pinned requirements, the two commands."""

import re

from support import ROOT

LAYOUT = [
    "main_service",
    "api_service",
    "background_service",
    "shared",
    "migrations",
    "tests",
    "docker-compose.yml",
    "requirements.txt",
    "README.md",
    "Makefile",
    ".ci/run",
]


def test_top_level_layout_matches_spec():
    missing = [name for name in LAYOUT if not (ROOT / name).exists()]
    assert missing == []


def test_every_requirement_is_pinned_exactly():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-r "):
                continue
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][A-Za-z0-9.]*", line), f"{name}: {line!r} is not pinned"


def test_required_packages_are_listed():
    names = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for package in (
        "flask",
        "flask-restful",
        "flask-sqlalchemy",
        "sqlalchemy",
        "psycopg2-binary",
        "flask-login",
        "flask-wtf",
        "weasyprint",
        "apscheduler",
        "twilio",
        "flask-migrate",
        "babel",
    ):
        assert package in names, package
    assert any(line.startswith("APScheduler==3.") for line in (ROOT / "requirements.txt").read_text().splitlines())


def test_makefile_has_the_targets_and_ci_runs_make_lint_then_make_test():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "test-fast", "lint", "bench"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    ci = (ROOT / ".ci/run").read_text()
    assert "CI" in ci
    assert re.search(r"^make lint\b", ci, re.M) and re.search(r"^make test$", ci, re.M)
    assert ci.index("make lint") < ci.index("make test\n"), "lint runs first: it fails in seconds"


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block
