"""Guards the detection figures on the labelled corpus (tests/detection/corpus) from falling.

The thresholds sit a little under what the corpus measured when they were set (see
docs/detection.md for the figures); detection is deterministic, so a drop below one is
a change that made detection worse, not noise. Raise them when detection improves.
"""

from __future__ import annotations

import pytest

from rumours.demo import demo_watchlist
from rumours.evaluation import Report, evaluate, load_corpus

pytestmark = pytest.mark.django_db

OVERALL_FLOORS = {
    "deal_f1": 0.94,
    "parties_accuracy": 0.84,
    "quote_precision": 0.90,
    "quote_recall": 0.83,
}
PER_LANGUAGE_DEAL_F1_FLOOR = 0.90
CLUSTER_PURITY_FLOOR = 0.97
CLUSTER_INVERSE_PURITY_FLOOR = 0.85


@pytest.fixture(scope="module")
def report(django_db_setup, django_db_blocker) -> Report:
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            demo_watchlist()
            result = evaluate(load_corpus())
            transaction.set_rollback(True)
    return result


def test_it_covers_all_eight_languages_with_at_least_200_items(report):
    assert set(report.by_language) == {"en", "id", "ms", "vi", "th", "ko", "ja", "zh"}
    assert report.overall.items >= 200


@pytest.mark.parametrize(("figure", "floor"), OVERALL_FLOORS.items())
def test_it_keeps_the_overall_figures(report, figure, floor):
    assert report.as_dict()["overall"][figure] >= floor, report.mistakes


@pytest.mark.parametrize("language", ["en", "id", "ms", "vi", "th", "ko", "ja", "zh"])
def test_it_keeps_deal_detection_in_every_language(report, language):
    assert report.as_dict()["by_language"][language]["deal_f1"] >= PER_LANGUAGE_DEAL_F1_FLOOR


def test_it_keeps_story_clusters_pure_and_whole(report):
    assert report.cluster_purity >= CLUSTER_PURITY_FLOOR
    assert report.cluster_inverse_purity >= CLUSTER_INVERSE_PURITY_FLOOR
