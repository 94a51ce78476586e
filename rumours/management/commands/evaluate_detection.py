from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rumours.demo import demo_watchlist
from rumours.evaluation import DEFAULT_CORPUS, CorpusError, Counts, evaluate, load_corpus


class Command(BaseCommand):
    help = (
        "Measure detection on a labelled corpus (default: the one under tests/detection/corpus): deal "
        "precision/recall/F1, stage and party accuracy, quote precision/recall, cluster purity, per "
        "language. Runs the real scan in a transaction it rolls back; with --bundled-watchlist the "
        "bundled companies and people are loaded into that transaction first. Run it on a scratch database "
        "(make evaluate uses var/evaluate.sqlite3): corpus items are clustered against the mentions stored there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS, help="A .jsonl file or a folder.")
        parser.add_argument(
            "--bundled-watchlist", action="store_true", help="Load rumours/data/*.json first (rolled back after)."
        )
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        parser.add_argument("--mistakes", action="store_true", help="List every item detection got wrong.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            items = load_corpus(options["corpus"])
        except (OSError, CorpusError) as exc:
            raise CommandError(f"Cannot read the corpus: {exc}") from None
        with transaction.atomic():
            if options["bundled_watchlist"]:
                demo_watchlist()
            report = evaluate(items)
            transaction.set_rollback(True)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(_table(report.overall, report.by_language))
            self.stdout.write(
                f"\nStory clusters: purity {report.cluster_purity:.3f}, "
                f"inverse purity {report.cluster_inverse_purity:.3f}"
            )
        if options["mistakes"]:
            self.stdout.write("\n" + "\n".join(report.mistakes))


def _table(overall: Counts, by_language: dict[str, Counts]) -> str:
    columns = ["items", "deal P", "deal R", "deal F1", "stage", "parties", "quote P", "quote R"]
    header = f"{'':8}{columns[0]:>6}" + "".join(f"{column:>8}" for column in columns[1:])
    rows = [header]
    for label, counts in [*sorted(by_language.items()), ("all", overall)]:
        rows.append(
            f"{label:8}{counts.items:>6}{counts.precision:>8.2f}{counts.recall:>8.2f}{counts.f1:>8.2f}"
            f"{counts.stage_accuracy:>8.2f}{counts.parties_accuracy:>8.2f}"
            f"{counts.quote_precision:>8.2f}{counts.quote_recall:>8.2f}"
        )
    return "\n".join(rows)
