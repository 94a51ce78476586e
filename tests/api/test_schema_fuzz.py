"""Property-based run of the OpenAPI schema (schemathesis): no request makes the API fail."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def in_test_transaction():
    """Calling the WSGI app directly fires request_finished, whose close_old_connections
    would close the connection holding the test's transaction (Django's test client
    disconnects it the same way)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def key(db, django_user_model, in_test_transaction):
    from django.core.cache import cache

    from rumours.models import ApiScope
    from rumours.services import api_key_create

    cache.clear()
    user = django_user_model.objects.create_user("fuzzer")
    return api_key_create(user=user, name="fuzz", scope=ApiScope.ANALYST, created_by=None)[1]


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_request_causes_a_server_error(case, key):
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=[not_a_server_error])
