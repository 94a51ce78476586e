"""The admin pages an analyst works in, full of hostile text, in a real browser: nothing runs.

``tests/hostile/test_xss_admin.py`` reads every admin page the way a browser tokenises
it. This test asks the browser itself, on the pages an analyst spends the day on:
no dialog opens, and the DOM Chromium built holds no element, handler or link that
came from a payload. The DOM check does not rely on the Content-Security-Policy
(which would block an inline script anyway): it finds markup that escaped escaping.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.hostile.conftest import HostileWorld, hostile_world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# Elements, handlers and links in the page that carry a payload's marker.
LIVE_PAYLOADS = """() => {
    const found = [];
    for (const element of document.querySelectorAll("*")) {
        const tag = element.tagName.toLowerCase();
        if (["script", "svg", "iframe", "object", "embed"].includes(tag) && element.outerHTML.includes("XSS")) {
            found.push(element.outerHTML.slice(0, 120));
        }
        if (tag === "img" && element.getAttribute("src") === "x") found.push(element.outerHTML.slice(0, 120));
        for (const attribute of element.attributes) {
            const name = attribute.name.toLowerCase();
            const value = attribute.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
            if (name.startsWith("on") && attribute.value.includes("XSS")) found.push(`${tag} ${name}`);
            if (["href", "src", "action", "formaction"].includes(name) && value.startsWith("javascript:")) {
                found.push(`${tag} ${name}=${attribute.value.slice(0, 60)}`);
            }
        }
    }
    return found;
}"""


def test_no_payload_runs_in_the_analysts_pages(page, live_server, hostile_world: HostileWorld):  # noqa: F811
    w = hostile_world
    dialogs: list[str] = []

    def opened(dialog) -> None:  # alert(), confirm(), prompt(): a payload ran
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", opened)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", w.analyst.username)
    page.fill("#id_password", "a-long-password-1")
    page.click("input[type=submit]")
    pages = [
        reverse("admin:rumours_rumour_change", args=[w.rumour.pk]),
        reverse("admin:rumours_rumour_changelist"),
        reverse("admin:rumours_mention_changelist") + "?state=all&deal=all&copies=show",
        reverse("admin:rumours_mention_review", args=[w.mention.pk]),
        reverse("admin:tracker_entry_changelist"),
        reverse("admin:tracker_entry_change", args=[w.entries[0].pk]),
        reverse("admin:rumours_company_change", args=[w.grab.pk]),
        reverse("admin:rumours_subscription_preview", args=[w.subscription.pk]),
    ]
    seen: dict[str, list[str]] = {}

    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.status == 200, path
        page.wait_for_load_state("load")
        seen[path] = page.evaluate(LIVE_PAYLOADS)
        # the payloads are on the page, as text
        assert "XSS" in page.content(), path

    assert dialogs == []
    assert {path: live for path, live in seen.items() if live} == {}
