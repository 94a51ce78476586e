"""The admin login resists password guessing (django-axes), through the real login form."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory, override_settings

from config.security import client_ip

PASSWORD = "a-long-password-1"


@pytest.fixture
def curator(db):
    return get_user_model().objects.create_superuser("curator", "c@example.invalid", PASSWORD)


def log_in(client: Client, password: str, *, username: str = "curator", address: str = "198.51.100.7") -> int:
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )
    if response.status_code == 302:
        assert response["Location"] == "/admin/"
    return response.status_code


def test_the_right_password_still_logs_in_after_a_few_mistakes(curator, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong") == 200  # the form again, with its error
    assert log_in(client, PASSWORD) == 302


def test_guessing_locks_the_username_from_that_address(curator, client):
    # given: as many wrong passwords as the limit allows
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "guess")

    # when: the right password comes next from the same address
    status = log_in(client, PASSWORD)

    # then: refused, and no session was opened
    assert status == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_the_lockout_does_not_reach_the_analyst_at_another_address(curator, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "guess", address="203.0.113.66")
    assert log_in(Client(), PASSWORD, address="198.51.100.7") == 302


def test_the_failed_attempts_do_not_store_the_guessed_passwords(curator, client):
    from axes.models import AccessAttempt

    for _ in range(2):
        log_in(client, "hunter2-guess")
    attempt = AccessAttempt.objects.get(username="curator")
    assert attempt.failures_since_start == 2
    assert "hunter2-guess" not in attempt.post_data


@override_settings(PROXY_COUNT=1)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert client_ip(request) == "198.51.100.7"  # the client's own "6.6.6.6" is not believed
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_without_a_proxy_forwarded_headers_are_ignored():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "198.51.100.7"
