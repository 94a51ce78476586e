"""Digests through a real Celery worker on Redis and PostgreSQL: planned by beat's task,
sent by the worker, once, to the file backend the worker writes to."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest

from rumours.digests.schedule import latest_period
from rumours.models import DigestDelivery, DigestState
from rumours.tasks import plan_digests
from tests.rumours.conftest import UserFactory
from tests.rumours.digest_world import HUNGATE_SAYS, goto_grab_denial, subscriber
from tests.services.conftest import wait_for

pytestmark = pytest.mark.service


@pytest.fixture
def worker_mail(monkeypatch, tmp_path):
    """Where the worker process writes its mail (it reads EMAIL_URL when it starts)."""
    mail_dir = tmp_path / "mail"
    monkeypatch.setenv("EMAIL_URL", f"filemail:///{mail_dir}")
    return mail_dir


def test_it_sends_a_grab_follower_one_digest_through_the_worker(worker_mail, celery_worker_process):
    # given: a Grab follower whose send hour (UTC) has just passed, and GoTo's denial in the period
    now = datetime.now(UTC)
    period = latest_period(now=now, frequency="daily", time_zone="UTC", hour=now.hour)
    world = goto_grab_denial(
        analyst=UserFactory.create(), during=period.end - timedelta(minutes=30), before=period.start - timedelta(days=3)
    )
    follower = subscriber(
        "grab-follower@example.invalid", since=period.start - timedelta(days=2), follows=[world.grab],
        time_zone="UTC", send_hour=now.hour,
    )  # fmt: skip

    # when: beat's tick runs twice (a duplicate, as two beats would)
    plan_digests.delay()
    plan_digests.delay()
    wait_for(
        lambda: DigestDelivery.objects.filter(subscription=follower, state=DigestState.SENT).exists(),
        timeout=60,
        message=f"the digest to be sent\n{celery_worker_process.output()}",
    )

    # then: one delivery, one email, with the denial and Alex Hungate's words
    delivery = DigestDelivery.objects.get(subscription=follower)
    assert (delivery.period_end, delivery.subject) == (period.end, "GoTo–Grab merger: now Denied")
    (written,) = [path.read_bytes() for path in worker_mail.iterdir()]
    (raw,) = [part for part in written.split(b"-" * 79) if part.strip()]  # the file backend's separator
    message = email.message_from_bytes(raw.lstrip(), policy=email.policy.default)
    assert message["Message-ID"] == delivery.message_id
    assert message["To"] == "grab-follower@example.invalid"
    body = message.get_body(("plain",))
    assert body is not None
    assert HUNGATE_SAYS in body.get_content()
