"""Production settings pass Django's deployment checklist and send the security headers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_it_passes_check_deploy_with_the_production_settings(tmp_path):
    # given: the production settings, as an operator sets them (no DEBUG, a real key, a host)
    ours = ("DJANGO_", "DATABASE_", "REDIS_", "TRACKER_", "CELERY_", "EMAIL_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="a-production-key-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="tracker.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )

    # when
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_it_sends_a_content_security_policy_without_inline_scripts(client):
    response = client.get("/health/live/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
