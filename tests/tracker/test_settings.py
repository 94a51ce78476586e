"""Settings: the env helpers, start-up refusals, and the tracker's system checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env
from tracker.checks import check_tracker_settings

PROJECT_DIR = Path(__file__).resolve().parents[2]
VAR = "TRACKER_TEST_SETTING"


# --- config.env helpers ---------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("42", 42), (" -3 ", -3), ("", 7), ("   ", 7)])
def test_it_reads_an_integer(monkeypatch, raw, expected):
    monkeypatch.setenv(VAR, raw)

    assert env.integer(VAR, default=7) == expected


def test_it_uses_the_default_for_an_unset_variable(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)

    assert env.integer(VAR, default=7) == 7
    assert env.boolean(VAR, default=True) is True
    assert env.string(VAR, default="x") == "x"
    assert env.strings(VAR, default=["a"]) == ["a"]


@pytest.mark.parametrize("raw", ["five", "1.5", "1e3", "0x10"])
def test_it_names_the_variable_for_a_bad_integer(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)

    with pytest.raises(ImproperlyConfigured) as caught:
        env.integer(VAR, default=7)

    assert str(caught.value) == f"{VAR} must be an integer, got {raw!r}."


def test_it_names_the_variable_for_a_bad_number(monkeypatch):
    monkeypatch.setenv(VAR, "ten seconds")

    with pytest.raises(ImproperlyConfigured, match=f"^{VAR} must be a number, got 'ten seconds'.$"):
        env.number(VAR, default=1.0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        ("yes", True),
        ("On", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
    ],
)
def test_it_reads_a_boolean(monkeypatch, raw, expected):
    monkeypatch.setenv(VAR, raw)

    assert env.boolean(VAR, default=not expected) is expected


@pytest.mark.parametrize("raw", ["2", "enabled", "nope", "y"])
def test_it_names_the_variable_for_a_bad_boolean(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)

    with pytest.raises(ImproperlyConfigured) as caught:
        env.boolean(VAR, default=False)

    assert str(caught.value) == f"{VAR} must be a boolean (1/0, true/false), got {raw!r}."


def test_it_splits_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv(VAR, " a.example , b.example,, ")

    assert env.strings(VAR, default=[]) == ["a.example", "b.example"]


def test_it_reads_a_postgres_database_url(monkeypatch):
    monkeypatch.setenv(VAR, "postgres://tracker:s3cret@db.internal:5433/tracker")

    config = env.database(VAR, default="sqlite:///x.sqlite3")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("tracker", "tracker", "s3cret")
    assert (config["HOST"], config["PORT"]) == ("db.internal", 5433)


@pytest.mark.filterwarnings("ignore:Engine not recognized")
def test_it_names_the_variable_for_a_database_url_without_a_scheme(monkeypatch):
    monkeypatch.setenv(VAR, "tracker-db")

    with pytest.raises(ImproperlyConfigured) as caught:
        env.database(VAR, default="sqlite:///x.sqlite3")

    assert str(caught.value).startswith(f"{VAR} has an unsupported scheme 'tracker-db'; use e.g. postgres://")


@pytest.mark.parametrize("raw", ["postgress://u:p@h/db", "foo://bar"])
def test_it_names_the_variable_for_a_database_url_with_an_unknown_scheme(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)

    with pytest.raises(ImproperlyConfigured, match=VAR):
        env.database(VAR, default="sqlite:///x.sqlite3")


# --- Starting with the real settings module -------------------------------------------


def import_settings(code: str = "import config.settings", **overrides: str) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "TRACKER_"))
    }
    environment.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_refuses_to_start_in_production_without_a_secret_key(tmp_path):
    result = import_settings(DJANGO_DEBUG="0", TRACKER_VAR_DIR=str(tmp_path))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_it_starts_in_debug_without_a_secret_key(tmp_path):
    result = import_settings(
        "import config.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'])",
        DJANGO_DEBUG="1",
        TRACKER_VAR_DIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3"]


def test_it_refuses_to_start_with_a_bad_integer_setting(tmp_path):
    result = import_settings(DJANGO_DEBUG="1", TRACKER_VAR_DIR=str(tmp_path), TRACKER_MIN_INTERVAL="five")

    assert result.returncode != 0
    assert "TRACKER_MIN_INTERVAL must be an integer, got 'five'." in result.stderr


def test_it_uses_postgresql_for_a_postgres_database_url(tmp_path):
    result = import_settings(
        "import json, config.settings as s; print(json.dumps(s.DATABASES['default']))",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="not-a-real-key",
        TRACKER_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://tracker:pw@db.internal:5432/tracker",
    )

    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout)
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["HOST"], database["PORT"]) == ("tracker", "db.internal", 5432)
    assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (60, True)
    assert "OPTIONS" not in database or "transaction_mode" not in database["OPTIONS"]


# --- System checks --------------------------------------------------------------------


def check_ids() -> list[str | None]:
    return [problem.id for problem in check_tracker_settings()]


def test_it_passes_the_checks_with_the_test_settings(settings):
    settings.DEBUG = True  # the tests allow private addresses, which warns outside DEBUG

    assert check_ids() == []


def test_it_reports_a_floor_above_the_ceiling(settings):
    settings.DEBUG = True
    settings.TRACKER_MIN_INTERVAL = 7200
    settings.TRACKER_MAX_INTERVAL = 3600

    problems = check_tracker_settings()

    assert [p.id for p in problems] == ["tracker.E002"]
    assert problems[0].msg == "TRACKER_MIN_INTERVAL is larger than TRACKER_MAX_INTERVAL."


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"TRACKER_DISPATCH_BATCH": 0}, ["tracker.E001"]),
        ({"TRACKER_LEASE_SECONDS": 60, "TRACKER_TOTAL_TIMEOUT": 30.0}, ["tracker.E003"]),
        ({"TRACKER_MAX_REDIRECTS": -1}, ["tracker.E004"]),
        ({"TRACKER_ENTRIES_HANDLER": "rumours.handoff.no_such_handler"}, ["tracker.E005"]),
        ({"DEBUG": False}, ["tracker.W001"]),
    ],
)
def test_it_reports_bad_tracker_settings(settings, overrides, expected):
    settings.DEBUG = True
    for name, value in overrides.items():
        setattr(settings, name, value)

    assert check_ids() == expected
