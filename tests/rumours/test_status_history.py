"""Status history (services.rumour_change_status / status_change_retract).

The history is append-only and bitemporal; every change is checked against the
change before it and the change after it, and the rumour's cached status is the
latest non-retracted change by effective date.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from rumours.models import TRANSITIONS, AppendOnlyError, Status, StatusChange
from rumours.services import (
    InvalidTransitionError,
    RumourError,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
    status_change_retract,
)
from tests.rumours.conftest import UserFactory, at

pytestmark = pytest.mark.django_db

S = Status

# The shortest valid history that leaves a rumour in each status.
PATH_TO = {
    None: [],
    S.RUMOURED: [S.RUMOURED],
    S.IN_TALKS: [S.IN_TALKS],
    S.AGREED: [S.AGREED],
    S.COMPLETED: [S.COMPLETED],
    S.ABANDONED: [S.RUMOURED, S.ABANDONED],
    S.DENIED: [S.DENIED],
    S.EXPIRED: [S.RUMOURED, S.EXPIRED],
}


def record_history(rumour, statuses, *, by, first_year: int = 2015) -> list[StatusChange]:
    return [
        rumour_change_status(rumour=rumour, status=status, effective_at=at(first_year + i), recorded_by=by)
        for i, status in enumerate(statuses)
    ]


def label(status: str | None) -> str:
    return Status(status).label if status else "no status yet"


@pytest.mark.parametrize(
    ("history", "new", "allowed"),
    [
        pytest.param([S.COMPLETED], S.RUMOURED, False, id="completed-to-rumoured-refused"),
        pytest.param([S.DENIED], S.RUMOURED, True, id="denied-to-rumoured-allowed"),
        pytest.param([S.RUMOURED, S.ABANDONED], S.IN_TALKS, True, id="abandoned-to-in_talks-allowed"),
        pytest.param([S.AGREED], S.DENIED, False, id="agreed-to-denied-refused"),
        pytest.param([], S.EXPIRED, False, id="first-change-expired-refused"),
        pytest.param([], S.ABANDONED, False, id="first-change-abandoned-refused"),
        pytest.param([], S.RUMOURED, True, id="first-change-rumoured-allowed"),
        pytest.param([S.RUMOURED], S.RUMOURED, False, id="same-status-twice-refused"),
        pytest.param([S.DENIED], S.DENIED, False, id="denied-twice-refused"),
        pytest.param([S.RUMOURED, S.EXPIRED], S.RUMOURED, True, id="expired-revives"),
        pytest.param([S.IN_TALKS], S.AGREED, True, id="in_talks-to-agreed-allowed"),
        pytest.param([S.AGREED], S.COMPLETED, True, id="agreed-to-completed-allowed"),
    ],
)
def test_it_allows_only_the_transitions_the_table_allows(make_rumour, analyst, history, new, allowed):
    # given
    rumour = make_rumour()
    record_history(rumour, history, by=analyst)
    before = history[-1] if history else None

    # when
    if allowed:
        rumour_change_status(rumour=rumour, status=new, effective_at=at(2024), recorded_by=analyst)
    else:
        with pytest.raises(InvalidTransitionError) as refused:
            rumour_change_status(rumour=rumour, status=new, effective_at=at(2024), recorded_by=analyst)

    # then
    rumour.refresh_from_db()
    if allowed:
        assert rumour.status == new
        assert StatusChange.objects.filter(rumour=rumour).count() == len(history) + 1
    else:
        message = str(refused.value)
        assert f"from {label(before)} to {label(new)}" in message
        assert (refused.value.current, refused.value.new) == (before, new)
        assert rumour.status == (before or "")
        assert StatusChange.objects.filter(rumour=rumour).count() == len(history)


@pytest.mark.parametrize("current", list(PATH_TO), ids=lambda s: s or "none")
def test_it_enforces_the_whole_transition_table(make_rumour, analyst, current):
    # given one rumour per target status, each in ``current``
    for new in Status.values:
        rumour = make_rumour(title=f"{current} to {new}")
        record_history(rumour, PATH_TO[current], by=analyst)

        # when
        try:
            rumour_change_status(rumour=rumour, status=new, effective_at=at(2024), recorded_by=analyst)
            moved = True
        except InvalidTransitionError:
            moved = False

        # then
        assert moved == (new in TRANSITIONS[current]), f"{current} -> {new}"


def test_it_refuses_a_back_dated_change_that_breaks_the_change_after_it(make_rumour, analyst):
    # given rumoured (2020) -> completed (2024)
    rumour = make_rumour()
    rumour_change_status(rumour=rumour, status=S.RUMOURED, effective_at=at(2020, 3, 1), recorded_by=analyst)
    rumour_change_status(rumour=rumour, status=S.COMPLETED, effective_at=at(2024, 5, 2), recorded_by=analyst)

    # when denied is slipped in between (rumoured -> denied is fine, denied -> completed is not)
    with pytest.raises(InvalidTransitionError) as refused:
        rumour_change_status(rumour=rumour, status=S.DENIED, effective_at=at(2022, 6, 1), recorded_by=analyst)

    # then the message names the later change it would break
    message = str(refused.value)
    assert "from Denied to Completed" in message
    assert "already recorded for 2024-05-02" in message
    assert StatusChange.objects.filter(rumour=rumour).count() == 2


def test_it_refuses_a_back_dated_change_that_does_not_follow_the_change_before_it(make_rumour, analyst):
    # given agreed (2020) -> completed (2024); in_talks -> completed alone would be fine
    rumour = make_rumour()
    rumour_change_status(rumour=rumour, status=S.AGREED, effective_at=at(2020), recorded_by=analyst)
    rumour_change_status(rumour=rumour, status=S.COMPLETED, effective_at=at(2024), recorded_by=analyst)

    # when
    with pytest.raises(InvalidTransitionError) as refused:
        rumour_change_status(rumour=rumour, status=S.IN_TALKS, effective_at=at(2022, 6, 1), recorded_by=analyst)

    # then
    assert "from Agreed to In talks on 2022-06-01" in str(refused.value)
    assert StatusChange.objects.filter(rumour=rumour).count() == 2


def test_it_accepts_a_back_dated_change_that_fits_both_neighbours(make_rumour, analyst):
    # given rumoured (2020) -> completed (2024)
    rumour = make_rumour()
    rumour_change_status(rumour=rumour, status=S.RUMOURED, effective_at=at(2020), recorded_by=analyst)
    rumour_change_status(rumour=rumour, status=S.COMPLETED, effective_at=at(2024), recorded_by=analyst)

    # when
    rumour_change_status(rumour=rumour, status=S.IN_TALKS, effective_at=at(2022), recorded_by=analyst)

    # then
    rumour.refresh_from_db()
    assert list(StatusChange.objects.filter(rumour=rumour).values_list("status", flat=True)) == [
        S.RUMOURED,
        S.IN_TALKS,
        S.COMPLETED,
    ]
    assert (rumour.status, rumour.status_effective_at) == (S.COMPLETED, at(2024))


def test_it_refuses_an_effective_date_in_the_future(make_rumour, analyst):
    # given
    rumour = make_rumour()

    # when
    with pytest.raises(RumourError, match="future"):
        rumour_change_status(
            rumour=rumour, status=S.RUMOURED, effective_at=timezone.now() + timedelta(hours=1), recorded_by=analyst
        )

    # then
    assert not StatusChange.objects.filter(rumour=rumour).exists()


def test_it_refuses_an_unknown_status(make_rumour, analyst):
    rumour = make_rumour()

    with pytest.raises(RumourError, match="Unknown status"):
        rumour_change_status(rumour=rumour, status="leaked", effective_at=at(2020), recorded_by=analyst)

    assert not StatusChange.objects.filter(rumour=rumour).exists()


@pytest.mark.parametrize("kind", ["source", "quote"])
def test_it_refuses_evidence_from_another_rumour(make_rumour, analyst, kind):
    # given
    rumour, other = make_rumour(title="A"), make_rumour(title="B")
    source = rumour_attach_source(rumour=other, added_by=analyst, url="https://news.example/a", published_at=at(2020))
    quote = quote_add(rumour=other, text="No comment.", said_at=at(2020), added_by=analyst, speaker_name="X")
    evidence_source, evidence_quote = (source, None) if kind == "source" else (None, quote)

    # when
    with pytest.raises(RumourError, match="another rumour"):
        rumour_change_status(
            rumour=rumour,
            status=S.RUMOURED,
            effective_at=at(2020),
            recorded_by=analyst,
            evidence_source=evidence_source,
            evidence_quote=evidence_quote,
        )

    # then
    assert not StatusChange.objects.filter(rumour=rumour).exists()


def test_it_accepts_evidence_from_the_same_rumour(make_rumour, analyst):
    rumour = make_rumour()
    source = rumour_attach_source(rumour=rumour, added_by=analyst, url="https://news.example/a", published_at=at(2020))

    change = rumour_change_status(
        rumour=rumour, status=S.RUMOURED, effective_at=at(2020), recorded_by=analyst, evidence_source=source
    )

    assert StatusChange.objects.get(pk=change.pk).evidence_source == source


def test_it_derives_the_status_from_effective_order_not_recording_order(make_rumour, analyst):
    # given a 2025 change recorded first
    rumour = make_rumour()
    rumour_change_status(rumour=rumour, status=S.RUMOURED, effective_at=at(2025, 1, 10), recorded_by=analyst)

    # when an older one is back-filled afterwards
    rumour_change_status(rumour=rumour, status=S.DENIED, effective_at=at(2021, 4, 1), recorded_by=analyst)

    # then the most recent in the world still wins
    rumour.refresh_from_db()
    assert (rumour.status, rumour.status_effective_at) == (S.RUMOURED, at(2025, 1, 10))


def test_it_updates_the_cached_status_and_its_date(make_rumour, analyst):
    # given
    rumour = make_rumour()
    rumour_change_status(rumour=rumour, status=S.RUMOURED, effective_at=at(2023, 2, 3), recorded_by=analyst)

    # when
    rumour_change_status(rumour=rumour, status=S.IN_TALKS, effective_at=at(2024, 7, 8), recorded_by=analyst)

    # then
    rumour.refresh_from_db()
    assert (rumour.status, rumour.status_effective_at) == (S.IN_TALKS, at(2024, 7, 8))


def test_it_keeps_who_recorded_a_change_and_none_for_the_system(make_rumour, analyst):
    # given
    rumour = make_rumour()

    # when
    by_analyst = rumour_change_status(rumour=rumour, status=S.RUMOURED, effective_at=at(2020), recorded_by=analyst)
    by_system = rumour_change_status(rumour=rumour, status=S.EXPIRED, effective_at=at(2021), recorded_by=None)

    # then
    by_analyst.refresh_from_db()
    by_system.refresh_from_db()
    assert (by_analyst.recorded_by, by_analyst.is_system) == (analyst, False)
    assert (by_system.recorded_by, by_system.is_system) == (None, True)


def test_it_keeps_an_explicit_recorded_at(make_rumour, analyst):
    rumour = make_rumour()

    change = rumour_change_status(
        rumour=rumour, status=S.RUMOURED, effective_at=at(2020, 9, 1), recorded_by=analyst, recorded_at=at(2020, 9, 2)
    )

    change.refresh_from_db()
    assert (change.effective_at, change.recorded_at) == (at(2020, 9, 1), at(2020, 9, 2))


# --- Retraction ------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_a_retraction_without_a_reason(make_rumour, analyst, reason):
    # given
    rumour = make_rumour()
    change = rumour_change_status(rumour=rumour, status=S.RUMOURED, effective_at=at(2020), recorded_by=analyst)

    # when
    with pytest.raises(RumourError, match="why"):
        status_change_retract(change=change, retracted_by=analyst, reason=reason)

    # then
    change.refresh_from_db()
    assert change.retracted_at is None


def test_it_retracts_a_change_once_and_keeps_the_row(make_rumour, analyst):
    # given
    rumour = make_rumour()
    rumour_change_status(rumour=rumour, status=S.RUMOURED, effective_at=at(2020), recorded_by=analyst)
    wrong = rumour_change_status(rumour=rumour, status=S.DENIED, effective_at=at(2021), recorded_by=analyst)
    editor = UserFactory.create(username="editor")
    started = timezone.now()

    # when
    status_change_retract(change=wrong, retracted_by=editor, reason="The denial was about another deal.")

    # then the row stays, marked
    wrong.refresh_from_db()
    assert StatusChange.objects.filter(rumour=rumour).count() == 2
    assert wrong.retracted_by == editor
    assert wrong.retraction_reason == "The denial was about another deal."
    assert wrong.retracted_at is not None
    assert started <= wrong.retracted_at <= timezone.now()
    assert wrong.is_retracted
    # and the status is derived again from what is left
    rumour.refresh_from_db()
    assert (rumour.status, rumour.status_effective_at) == (S.RUMOURED, at(2020))

    # and a second retraction is refused, leaving the first one as it was
    with pytest.raises(RumourError, match="already retracted"):
        status_change_retract(change=wrong, retracted_by=analyst, reason="Again.")
    wrong.refresh_from_db()
    assert (wrong.retracted_by, wrong.retraction_reason) == (editor, "The denial was about another deal.")


def test_it_leaves_no_status_when_the_only_change_is_retracted(make_rumour, analyst):
    # given
    rumour = make_rumour()
    only = rumour_change_status(rumour=rumour, status=S.RUMOURED, effective_at=at(2020), recorded_by=analyst)

    # when
    status_change_retract(change=only, retracted_by=analyst, reason="Entered on the wrong rumour.")

    # then
    rumour.refresh_from_db()
    assert (rumour.status, rumour.status_effective_at) == ("", None)


def test_it_ignores_retracted_changes_when_checking_a_new_one(make_rumour, analyst):
    # given completed, retracted: the rumour is open again
    rumour = make_rumour()
    done = rumour_change_status(rumour=rumour, status=S.COMPLETED, effective_at=at(2020), recorded_by=analyst)
    status_change_retract(change=done, retracted_by=analyst, reason="It had not closed.")

    # when
    rumour_change_status(rumour=rumour, status=S.RUMOURED, effective_at=at(2021), recorded_by=analyst)

    # then
    rumour.refresh_from_db()
    assert rumour.status == S.RUMOURED


# --- Append-only -----------------------------------------------------------------------------


@pytest.fixture
def recorded(make_rumour, analyst) -> StatusChange:
    rumour = make_rumour()
    return rumour_change_status(
        rumour=rumour, status=S.RUMOURED, effective_at=at(2020), recorded_by=analyst, note="Reuters, 2020-09"
    )


def test_it_refuses_to_save_an_edited_change(recorded):
    # given
    recorded.note = "edited afterwards"

    # when
    with pytest.raises(AppendOnlyError):
        recorded.save()

    # then
    assert StatusChange.objects.get(pk=recorded.pk).note == "Reuters, 2020-09"


def test_it_refuses_to_save_an_edited_field_even_with_update_fields(recorded):
    recorded.status = S.DENIED

    with pytest.raises(AppendOnlyError):
        recorded.save(update_fields=["status", "retracted_at"])

    assert StatusChange.objects.get(pk=recorded.pk).status == S.RUMOURED


def test_it_refuses_to_delete_a_change(recorded):
    with pytest.raises(AppendOnlyError):
        recorded.delete()

    assert StatusChange.objects.filter(pk=recorded.pk).exists()


def test_it_saves_only_the_retraction_fields(recorded, analyst):
    # given
    moment: datetime = at(2024)
    recorded.retracted_at, recorded.retracted_by, recorded.retraction_reason = moment, analyst, "Duplicate."

    # when
    recorded.save(update_fields=["retracted_at", "retracted_by", "retraction_reason"])

    # then
    stored = StatusChange.objects.get(pk=recorded.pk)
    assert (stored.retracted_at, stored.retracted_by, stored.retraction_reason) == (moment, analyst, "Duplicate.")


# --- The database enforces the append-only rule (PostgreSQL) ---------------------------


@pytest.fixture
def on_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is installed on PostgreSQL only")


def test_it_refuses_a_queryset_edit_of_history_in_the_database(on_postgresql, make_rumour, analyst):
    from django.db import DatabaseError, transaction

    # given
    rumour = make_rumour()
    rumour_change_status(rumour=rumour, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst)

    # when / then: an UPDATE that bypasses the model is refused by the trigger
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StatusChange.objects.filter(rumour=rumour).update(status=Status.COMPLETED)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StatusChange.objects.filter(rumour=rumour)._raw_delete(StatusChange.objects.db)
    assert StatusChange.objects.get(rumour=rumour).status == Status.RUMOURED


def test_it_still_lets_the_database_record_a_retraction_once(on_postgresql, make_rumour, analyst):
    from django.db import DatabaseError, transaction

    rumour = make_rumour()
    change = rumour_change_status(rumour=rumour, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst)
    status_change_retract(change=change, retracted_by=analyst, reason="Wrong article.")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StatusChange.objects.filter(pk=change.pk).update(retraction_reason="Rewritten later.")
    change.refresh_from_db()
    assert change.retraction_reason == "Wrong article."


def test_it_refuses_to_delete_a_rumour_that_has_history(make_rumour, analyst):
    from django.db.models import ProtectedError

    rumour = make_rumour()
    rumour_change_status(rumour=rumour, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst)

    with pytest.raises(ProtectedError):
        rumour.delete()
