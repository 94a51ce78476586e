"""The interactive API docs render in a real browser under the site's Content-Security-Policy."""

from __future__ import annotations

import pytest


@pytest.mark.django_db(transaction=True)
def test_it_renders_the_api_docs_without_breaking_the_content_security_policy(page, live_server):
    # given: the browser reports every policy violation
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    # when
    response = page.goto(f"{live_server.url}/api/docs/")

    # then: the policy is sent, and Swagger UI drew the operations
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path")
    assert "/api/v1/rumours/" in page.inner_text(".swagger-ui")
    assert violations == []
