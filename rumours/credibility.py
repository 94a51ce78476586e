"""How believable a rumour is, as a score from 0 to 100 with its reasons. No ORM here.

The score is built from parts an investor can check, each stored in the breakdown:

* **Independent stories.** Sources are grouped by story (syndicated copies of one
  wire story share a ``story_key`` and count once). The first story counts its
  outlet tier's full weight, each further one half of its weight; at most 60.
* **On-record words from the parties.** A confirmation by an executive of a party
  adds 20, a denial takes 15 away (two of each at most); "no comment" adds 2,
  since it is not a denial.
* **Status.** Talks confirmed add 15; agreed and completed deals are facts (95 and
  100); abandoned and expired rumours are capped low.
* **Age.** After 90 days without new evidence, 3 points a month are lost (30 at most).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

TIER_WEIGHTS = {1: 30, 2: 18, 3: 8}
STORIES_CAP = 60
QUOTE_POINTS = {"confirms": 20, "denies": -15, "no_comment": 2}
QUOTES_COUNTED_PER_STANCE = 2
FRESH_DAYS = 90
AGE_POINTS_PER_30_DAYS = 3
AGE_CAP = 30


@dataclass(frozen=True)
class SourceFact:
    story_key: str
    tier: int


@dataclass(frozen=True)
class QuoteFact:
    stance: str
    by_party: bool
    speaker: str


@dataclass(frozen=True)
class Part:
    label: str
    points: int

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "points": self.points}


def score(
    *,
    sources: list[SourceFact],
    quotes: list[QuoteFact],
    status: str,
    last_evidence_at: datetime | None,
    now: datetime,
) -> tuple[int, list[Part]]:
    if status == "completed":
        return 100, [Part("Completed: the deal has closed", 100)]
    if status == "agreed":
        return 95, [Part("Agreed: a definitive agreement or formal offer was announced", 95)]

    parts: list[Part] = []
    stories: dict[str, int] = {}
    for source in sources:
        weight = TIER_WEIGHTS.get(source.tier, TIER_WEIGHTS[3])
        stories[source.story_key] = max(stories.get(source.story_key, 0), weight)
    if stories:
        weights = sorted(stories.values(), reverse=True)
        points = min(STORIES_CAP, weights[0] + sum(w // 2 for w in weights[1:]))
        copies = len(sources) - len(stories)
        label = f"{len(stories)} independent stor{'y' if len(stories) == 1 else 'ies'}"
        if copies:
            label += f" ({copies} syndicated cop{'y' if copies == 1 else 'ies'} counted once)"
        parts.append(Part(label, points))

    for stance, points in QUOTE_POINTS.items():
        # Each executive once per stance: saying it twice is not two confirmations.
        speakers = list(dict.fromkeys(q.speaker for q in quotes if q.by_party and q.stance == stance))
        on_record = [QuoteFact(stance, True, name) for name in speakers][:QUOTES_COUNTED_PER_STANCE]
        if on_record:
            names = ", ".join(sorted({q.speaker for q in on_record}))
            verb = {"confirms": "confirmed", "denies": "denied", "no_comment": "declined to comment"}[stance]
            parts.append(
                Part(f"{len(on_record)} party executive(s) {verb} on record ({names})", points * len(on_record))
            )

    if status == "in_talks":
        parts.append(Part("Talks confirmed by a party or a filing", 15))

    if last_evidence_at is not None:
        idle_days = (now - last_evidence_at).days
        if idle_days > FRESH_DAYS:
            penalty = min(AGE_CAP, (idle_days - FRESH_DAYS) // 30 * AGE_POINTS_PER_30_DAYS)
            if penalty:
                parts.append(Part(f"No new evidence for {idle_days} days", -penalty))

    raw = sum(part.points for part in parts)
    total = max(0, min(100, raw))
    if total != raw:  # keep the breakdown adding up to the score
        parts.append(Part("Capped at 100" if raw > 100 else "Floored at 0", total - raw))
    caps = {"abandoned": (10, "Abandoned: capped at 10"), "expired": (15, "Expired: capped at 15")}
    if status in caps and total > caps[status][0]:
        cap, label = caps[status]
        parts.append(Part(label, cap - total))
        total = cap
    return total, parts
