"""Read company lists (JSON or CSV) into :class:`~rumours.services.CompanySpec` rows.

No ORM here. Every problem in a file is collected with where it is (JSON item
number, CSV line number) and raised together as :class:`WatchlistError`, so an
operator fixes the file in one pass and nothing is half-imported.

JSON: a list of ``{"name", "country", "sector", "tickers": [...], "website",
"aliases": [{"alias", "language", "ambiguous"}]}`` (``aliases`` may also hold plain
strings). CSV: a header row with ``name,country,sector`` and optionally ``tickers``
(``;``-separated), ``website``, ``aliases`` (``;``-separated, each ``alias`` or
``lang:alias`` such as ``ko:그랩``) and ``ambiguous_aliases`` (``;``-separated aliases
that are also ordinary words, e.g. ``Grab``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from rumours.models import Sector
from rumours.services import AliasSpec, CompanySpec
from tracker.parsing import normalise_language

DEFAULT_WATCHLIST = Path(__file__).resolve().parent / "data" / "watchlist.json"
DEFAULT_PEOPLE = Path(__file__).resolve().parent / "data" / "people.json"
_COUNTRY = re.compile(r"[A-Z]{2}")
# Lower-case only, so exchange tickers such as IDX:GOTO or SGX:Z74 stay aliases.
_LANGUAGE_PREFIX = re.compile(r"^([a-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*):(.+)$")


class WatchlistError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def read_companies(data: bytes, *, name: str = "") -> list[CompanySpec]:
    """Parse a JSON or CSV company list; the format is told by ``name``'s suffix or the content."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WatchlistError([f"The file is not UTF-8 text ({exc.reason} at byte {exc.start})."]) from None
    if name.lower().endswith(".json") or text.lstrip().startswith("["):
        return _from_json(text)
    return _from_csv(text)


def _from_json(text: str) -> list[CompanySpec]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WatchlistError([f"Line {exc.lineno}: not valid JSON ({exc.msg})."]) from None
    except RecursionError:
        raise WatchlistError(["Not a company list: the JSON is nested far too deeply."]) from None
    if not isinstance(items, list):
        raise WatchlistError(["Expected a JSON list of companies."])
    problems: list[str] = []
    specs: list[CompanySpec] = []
    places: list[str] = []
    for number, item in enumerate(items, start=1):
        where = f"Item {number}"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected an object with name, country and sector.")
            continue
        where = f"Item {number} ({item.get('name') or 'no name'})"
        aliases: list[AliasSpec] = []
        for raw in item.get("aliases") or []:
            if isinstance(raw, str):
                raw = {"alias": raw}
            if not isinstance(raw, dict) or not isinstance(raw.get("alias"), str):
                problems.append(f"{where}: each alias must be a string or an object with an 'alias'.")
                continue
            aliases.append(
                AliasSpec(
                    alias=raw["alias"].strip(),
                    language=str(raw.get("language") or ""),
                    ambiguous=bool(raw.get("ambiguous")),
                )
            )
        tickers = item.get("tickers") or []
        if not isinstance(tickers, list) or not all(isinstance(t, str) for t in tickers):
            problems.append(f"{where}: tickers must be a list of strings such as 'IDX:GOTO'.")
            tickers = []
        spec = _spec(item, aliases=aliases, tickers=tickers, where=where, problems=problems)
        if spec:
            specs.append(spec)
            places.append(f"item {number}")
    _check_duplicates(specs, places, problems)
    if problems:
        raise WatchlistError(problems)
    return specs


def _from_csv(text: str) -> list[CompanySpec]:
    try:
        return _read_csv(text)
    except csv.Error as exc:  # a field over the csv module's limit, say
        raise WatchlistError([f"Not a readable CSV file: {exc}."]) from None


def _read_csv(text: str) -> list[CompanySpec]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"name", "country", "sector"} - set(reader.fieldnames or [])
    if missing:
        raise WatchlistError([f"Line 1: the header lacks {', '.join(sorted(missing))}."])
    problems: list[str] = []
    specs: list[CompanySpec] = []
    places: list[str] = []
    for row in reader:
        where = f"Line {reader.line_num} ({row.get('name') or 'no name'})"
        ambiguous_spelled = {
            a.strip().casefold(): a.strip() for a in (row.get("ambiguous_aliases") or "").split(";") if a.strip()
        }
        ambiguous = set(ambiguous_spelled)
        aliases: list[AliasSpec] = []
        for raw in (row.get("aliases") or "").split(";"):
            raw = raw.strip()
            if not raw:
                continue
            match = _LANGUAGE_PREFIX.match(raw)
            language, alias = (match.group(1), match.group(2).strip()) if match else ("", raw)
            aliases.append(AliasSpec(alias=alias, language=language, ambiguous=alias.casefold() in ambiguous))
        listed = {a.alias.casefold() for a in aliases}
        aliases += [AliasSpec(alias=ambiguous_spelled[a], ambiguous=True) for a in sorted(ambiguous - listed)]
        tickers = [t.strip() for t in (row.get("tickers") or "").split(";") if t.strip()]
        spec = _spec(row, aliases=aliases, tickers=tickers, where=where, problems=problems)
        if spec:
            specs.append(spec)
            places.append(f"line {reader.line_num}")
    _check_duplicates(specs, places, problems)
    if problems:
        raise WatchlistError(problems)
    return specs


def _spec(
    item: dict[str, Any], *, aliases: list[AliasSpec], tickers: list[str], where: str, problems: list[str]
) -> CompanySpec | None:
    before = len(problems)
    name = str(item.get("name") or "").strip()
    country = str(item.get("country") or "").strip()
    sector = str(item.get("sector") or "").strip()
    website = str(item.get("website") or "").strip()
    if not name:
        problems.append(f"{where}: name is required.")
    elif len(name) > 200:
        problems.append(f"{where}: name is longer than 200 characters.")
    if not _COUNTRY.fullmatch(country):
        problems.append(f"{where}: country must be an ISO code such as ID, SG or KR, not {country!r}.")
    if sector not in Sector.values:
        problems.append(f"{where}: sector {sector!r} is not one of {', '.join(Sector.values)}.")
    if len(website) > 200:
        problems.append(f"{where}: website is longer than 200 characters.")
    elif website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            problems.append(f"{where}: website {website!r} is not an http(s) URL.")
    texts = [("name", name), ("website", website)] + [("alias", a.alias) for a in aliases]
    texts += [("ticker", ticker) for ticker in tickers]
    for label, text in texts:
        if "\x00" in text:  # PostgreSQL cannot store it
            problems.append(f"{where}: the {label} {text!r} contains a NUL character.")
    for alias in aliases:
        if not alias.alias or len(alias.alias) > 200:
            problems.append(f"{where}: alias {alias.alias!r} must be 1 to 200 characters.")
        if alias.language and not normalise_language(alias.language):
            problems.append(f"{where}: alias {alias.alias!r} has a bad language tag {alias.language!r}.")
    if len(problems) > before:
        return None
    return CompanySpec(
        name=name,
        country=country,
        sector=sector,
        tickers=tuple(tickers),
        website=website,
        aliases=tuple(AliasSpec(a.alias, normalise_language(a.language), a.ambiguous) for a in aliases),
    )


def _check_duplicates(specs: list[CompanySpec], places: list[str], problems: list[str]) -> None:
    first: dict[str, str] = {}
    for spec, place in zip(specs, places, strict=True):
        key = spec.name.casefold()
        if key in first:
            problems.append(f"{place.capitalize()} ({spec.name}): the name is already listed on {first[key]}.")
        first.setdefault(key, place)
