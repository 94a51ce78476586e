"""The ``import_companies`` command: JSON and CSV company lists, all or nothing."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from rumours.models import Company, CompanyAlias
from tests.rumours.conftest import CompanyFactory

pytestmark = pytest.mark.django_db

CSV_HEADER = "name,country,sector,tickers,website,aliases,ambiguous_aliases\n"


def write_json(directory: Path, items: Any, name: str = "companies.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(directory: Path, rows: str, name: str = "companies.csv") -> Path:
    path = directory / name
    path.write_text(CSV_HEADER + rows, encoding="utf-8")
    return path


def run_import(path: Path | None = None) -> str:
    out = StringIO()
    call_command("import_companies", *([str(path)] if path else []), stdout=out)
    return out.getvalue()


def aliases_of(name: str) -> set[tuple[str, str, bool]]:
    return {(a.alias, a.language, a.is_ambiguous) for a in CompanyAlias.objects.filter(company__name=name)}


def grab_item(**overrides: Any) -> dict[str, Any]:
    item = {
        "name": "Grab",
        "country": "SG",
        "sector": "super_app",
        "tickers": ["NASDAQ:GRAB"],
        "website": "https://www.grab.com",
        "aliases": [
            {"alias": "Grab", "ambiguous": True},
            {"alias": "그랩", "language": "ko"},
            "Grab Holdings",
        ],
    }
    return item | overrides


# --- Good files --------------------------------------------------------------------------------


def test_it_imports_a_json_file(tmp_path):
    # given
    path = write_json(tmp_path, [grab_item(), {"name": "GoTo", "country": "ID", "sector": "super_app"}])

    # when
    output = run_import(path)

    # then
    assert "Imported 2 companies: 2 new, 0 updated." in output
    grab = Company.objects.get(name="Grab")
    assert (grab.country, grab.sector, grab.tickers, grab.website) == (
        "SG",
        "super_app",
        ["NASDAQ:GRAB"],
        "https://www.grab.com",
    )
    assert aliases_of("Grab") == {("Grab", "", True), ("그랩", "ko", False), ("Grab Holdings", "", False)}
    assert Company.objects.get(name="GoTo").country == "ID"


def test_it_imports_a_csv_file_with_language_prefixes_and_ambiguous_aliases(tmp_path):
    # given
    path = write_csv(
        tmp_path,
        "Grab,SG,super_app,NASDAQ:GRAB;SGX:GRAB,https://www.grab.com,Grab Holdings;ko:그랩;th:แกร็บ;Grab,grab\n"
        "Sea Limited,SG,gaming,NYSE:SE,,ko:씨,\n",
    )

    # when
    output = run_import(path)

    # then
    assert "Imported 2 companies: 2 new, 0 updated." in output
    grab = Company.objects.get(name="Grab")
    assert (grab.country, grab.sector, grab.tickers) == ("SG", "super_app", ["NASDAQ:GRAB", "SGX:GRAB"])
    assert aliases_of("Grab") == {
        ("Grab Holdings", "", False),
        ("그랩", "ko", False),
        ("แกร็บ", "th", False),
        ("Grab", "", True),
    }
    assert aliases_of("Sea Limited") == {("씨", "ko", False)}


def test_it_adds_an_alias_named_only_in_the_ambiguous_column(tmp_path):
    path = write_csv(tmp_path, "Sea Limited,SG,gaming,,,ko:씨,Sea\n")

    run_import(path)

    assert CompanyAlias.objects.filter(company__name="Sea Limited", normalised="sea", is_ambiguous=True).exists()


def test_it_keeps_the_spelling_of_an_alias_named_only_in_the_ambiguous_column(tmp_path):
    path = write_csv(tmp_path, "Sea Limited,SG,gaming,,,ko:씨,Sea\n")

    run_import(path)

    assert aliases_of("Sea Limited") == {("씨", "ko", False), ("Sea", "", True)}


def test_it_reads_a_csv_file_saved_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + CSV_HEADER + "Grab,SG,super_app,,,,\n").encode())

    run_import(path)

    assert Company.objects.filter(name="Grab", country="SG").exists()


def test_it_keeps_exchange_prefixed_aliases_in_a_csv_file_whole(tmp_path):
    path = write_csv(tmp_path, "GoTo,ID,super_app,IDX:GOTO,,IDX:GOTO;ko:고젝,\n")

    run_import(path)

    assert aliases_of("GoTo") == {("IDX:GOTO", "", False), ("고젝", "ko", False)}


def test_it_updates_companies_by_name_on_a_second_run(tmp_path):
    # given
    run_import(write_json(tmp_path, [grab_item()], name="first.json"))
    first_id = Company.objects.get(name="Grab").pk
    changed = grab_item(country="MY", aliases=["Grab Holdings", {"alias": "แกร็บ", "language": "th"}])

    # when
    output = run_import(write_json(tmp_path, [changed], name="second.json"))

    # then: the same row, with the new country and exactly the new aliases
    assert "Imported 1 companies: 0 new, 1 updated." in output
    grab = Company.objects.get()
    assert (grab.pk, grab.country) == (first_id, "MY")
    assert aliases_of("Grab") == {("Grab Holdings", "", False), ("แกร็บ", "th", False)}


def test_it_imports_the_bundled_watchlist_without_a_path():
    # when
    run_import()

    # then
    assert Company.objects.count() >= 60
    assert ("고투", "ko", True) in aliases_of("GoTo")
    assert ("그랩", "ko", False) in aliases_of("Grab")


def test_it_imports_the_bundled_watchlist_twice_without_duplicates():
    run_import()
    companies, aliases = Company.objects.count(), CompanyAlias.objects.count()

    output = run_import()

    assert (Company.objects.count(), CompanyAlias.objects.count()) == (companies, aliases)
    assert f"0 new, {companies} updated" in output


# --- Bad files ---------------------------------------------------------------------------------

BAD_CSV_ROWS = (
    "Grab,SG,super_app,,,,\n"  # line 2: fine
    "Bad Country,Singapore,other,,,,\n"  # line 3
    "Bad Sector,SG,spaceships,,,,\n"  # line 4
    ",SG,other,,,,\n"  # line 5
    "Bad Website,SG,other,,not a url,,\n"  # line 6
    "Bad Language,SG,other,,,ko-aaaaaaaa-bbbbbbbb-cccccccc-dddddddd:그랩,\n"  # line 7: a tag over 35 characters
    "grab,ID,other,,,,\n"  # line 8: Grab again
)
BAD_JSON_ITEMS = [
    {"name": "Grab", "country": "SG", "sector": "super_app"},
    {"name": "Bad Country", "country": "Singapore", "sector": "other"},
    {"name": "Bad Sector", "country": "SG", "sector": "spaceships"},
    {"country": "SG", "sector": "other"},
    {"name": "Bad Website", "country": "SG", "sector": "other", "website": "ftp://example.com"},
    {"name": "Bad Language", "country": "SG", "sector": "other", "aliases": [{"alias": "x", "language": "Korean"}]},
    {"name": "GRAB", "country": "ID", "sector": "other"},
]


def import_error(path: Path) -> str:
    with pytest.raises(CommandError) as raised:
        run_import(path)
    return str(raised.value)


@pytest.mark.parametrize(
    "expected",
    [
        "Line 3 (Bad Country): country must be an ISO code",
        "Line 4 (Bad Sector): sector 'spaceships' is not one of",
        "Line 5 (no name): name is required",
        "Line 6 (Bad Website): website 'not a url' is not an http(s) URL",
        "Line 7 (Bad Language): alias '그랩' has a bad language tag",
    ],
)
def test_it_lists_every_problem_in_a_csv_file_with_its_line(tmp_path, expected):
    message = import_error(write_csv(tmp_path, BAD_CSV_ROWS))

    assert "nothing imported" in message
    assert expected in message


@pytest.mark.parametrize(
    "expected",
    [
        "Item 2 (Bad Country): country must be an ISO code",
        "Item 3 (Bad Sector): sector 'spaceships' is not one of",
        "Item 4 (no name): name is required",
        "Item 5 (Bad Website): website 'ftp://example.com' is not an http(s) URL",
        "Item 6 (Bad Language): alias 'x' has a bad language tag 'Korean'",
    ],
)
def test_it_lists_every_problem_in_a_json_file_with_its_item_number(tmp_path, expected):
    message = import_error(write_json(tmp_path, BAD_JSON_ITEMS))

    assert "nothing imported" in message
    assert expected in message


def test_it_reports_a_name_listed_twice(tmp_path):
    message = import_error(write_csv(tmp_path, "Grab,SG,super_app,,,,\nGRAB,ID,other,,,,\n"))

    assert "Line 3 (GRAB): the name is already listed on line 2." in message


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        pytest.param(BAD_CSV_ROWS, "Line 8", id="csv"),
        pytest.param(BAD_JSON_ITEMS, "Item 7", id="json"),
    ],
)
def test_it_says_where_a_duplicate_name_is(tmp_path, rows, where):
    path = write_csv(tmp_path, rows) if isinstance(rows, str) else write_json(tmp_path, rows)

    message = import_error(path)

    duplicate_lines = [line for line in message.splitlines() if "already listed" in line]
    assert len(duplicate_lines) == 1
    assert duplicate_lines[0].startswith(where)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(BAD_CSV_ROWS, id="csv"),
        pytest.param(BAD_JSON_ITEMS, id="json"),
        pytest.param("Grab,MY,super_app,,,,\nBad Country,Singapore,other,,,,\n", id="one-bad-row-last"),
    ],
)
def test_it_imports_nothing_when_any_row_is_bad(tmp_path, rows):
    # given: Grab is known; every file above would change it and add companies
    CompanyFactory.create(name="Grab", country="SG")
    path = write_csv(tmp_path, rows) if isinstance(rows, str) else write_json(tmp_path, rows)

    # when
    import_error(path)

    # then
    assert list(Company.objects.values_list("name", "country")) == [("Grab", "SG")]


def test_it_refuses_a_website_longer_than_the_column(tmp_path):
    website = "https://www.grab.com/" + "a" * 200
    path = write_json(tmp_path, [grab_item(website=website)])

    message = import_error(path)

    assert "Item 1 (Grab): website" in message


def test_it_explains_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((CSV_HEADER + "Société Générale,FR,banking,,,,\n").encode("latin-1"))

    message = import_error(path)

    assert "not UTF-8 text" in message
    assert not Company.objects.exists()


def test_it_explains_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"name": "Grab", "country": "SG",}\n]', encoding="utf-8")

    message = import_error(path)

    assert "Line 2: not valid JSON" in message
    assert not Company.objects.exists()


def test_it_explains_json_that_is_not_a_list(tmp_path):
    message = import_error(write_json(tmp_path, {"name": "Grab", "country": "SG", "sector": "super_app"}))

    assert "Expected a JSON list of companies" in message


def test_it_explains_a_csv_file_without_the_required_columns(tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text("company,country\nGrab,SG\n", encoding="utf-8")

    message = import_error(path)

    assert "Line 1: the header lacks name, sector" in message


def test_it_explains_a_missing_file(tmp_path):
    missing = tmp_path / "nowhere.json"

    message = import_error(missing)

    assert f"Cannot read {missing}: No such file or directory" in message
