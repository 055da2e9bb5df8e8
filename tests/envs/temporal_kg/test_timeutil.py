"""Day numbers, periods and time-answer comparison at the gold's granularity."""

from __future__ import annotations

import datetime as dt

import pytest

from rlvr.envs.temporal_kg.timeutil import Period, day_of, format_day, parse_loose, same_time


def test_day_of_is_the_date_ordinal() -> None:
    assert day_of("2014-03-05") == dt.date(2014, 3, 5).toordinal() == 735297
    assert day_of(" 2014-3-5 ") == 735297
    for bad in ("2014-03", "2014", "2014-02-30", "05/03/2014", "", "yesterday"):
        with pytest.raises(ValueError):
            day_of(bad)


@pytest.mark.parametrize(
    ("text", "granularity", "first", "last"),
    [
        ("2014-03-05", "day", "2014-03-05", "2014-03-05"),
        ("2014-03", "month", "2014-03-01", "2014-03-31"),
        ("2014-02", "month", "2014-02-01", "2014-02-28"),
        ("2016-02", "month", "2016-02-01", "2016-02-29"),
        ("2014-12", "month", "2014-12-01", "2014-12-31"),
        ("2014", "year", "2014-01-01", "2014-12-31"),
        ("2016", "year", "2016-01-01", "2016-12-31"),
    ],
)
def test_period_parse(text: str, granularity: str, first: str, last: str) -> None:
    period = Period.parse(text)
    assert period == Period(granularity, day_of(first), day_of(last))  # type: ignore[arg-type]
    assert str(period) == text
    assert period.contains(day_of(first)) and period.contains(day_of(last))
    assert not period.contains(day_of(first) - 1) and not period.contains(day_of(last) + 1)
    assert period.days == day_of(last) - day_of(first) + 1


@pytest.mark.parametrize(
    "bad", ["2014-13", "2014-00", "2014-02-29", "14", "2014-03-05T10:00", "March 2014", "", "x"]
)
def test_period_parse_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(bad)


def test_period_containing_and_format_day() -> None:
    day = day_of("2014-03-05")
    assert Period.containing(day, "month") == Period.parse("2014-03")
    assert Period.containing(day, "year") == Period.parse("2014")
    assert Period.containing(day) == Period.parse("2014-03-05")
    assert format_day(day) == "2014-03-05"
    assert format_day(day, "month") == "2014-03"
    assert format_day(day, "year") == "2014"
    assert format_day(day_of("0999-01-01"), "year") == "0999"
    with pytest.raises(ValueError):
        format_day(day, "week")  # type: ignore[arg-type]
    assert Period.parse("2014-03").within(Period.parse("2014"))
    assert not Period.parse("2014").within(Period.parse("2014-03"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-03-05", "2014-03-05"),
        ("2014-03-05T00:00:00Z", "2014-03-05"),
        ("+2014-03-05T00:00:00Z", "2014-03-05"),
        ("2014-00-00T00:00:00Z", "2014"),
        ("2014-03-00", "2014-03"),
        ("2014/03/05", "2014-03-05"),
        ("2014/03", "2014-03"),
        ("5 March 2014", "2014-03-05"),
        ("5th of March, 2014", "2014-03-05"),
        ("March 5, 2014", "2014-03-05"),
        ("Mar. 5 2014", "2014-03-05"),
        ("March 2014", "2014-03"),
        ("sept 2014", "2014-09"),
        ("In 2014.", None),
        (" 2014. ", "2014"),
        ("05/03/2014", None),
        ("February 30, 2014", None),
        ("Dalmar", None),
    ],
)
def test_parse_loose(text: str, expected: str | None) -> None:
    found = parse_loose(text)
    assert (None if found is None else str(found)) == expected


@pytest.mark.parametrize(
    ("predicted", "gold", "same"),
    [
        ("2014-03-05", "2014-03-05", True),
        ("2014-03-06", "2014-03-05", False),
        ("2014-03", "2014", True),  # more precise than the gold and inside it
        ("2014-03-05", "2014", True),
        ("2014-03-05", "2014-03", True),
        ("2014-04-01", "2014-03", False),
        ("2015-01", "2014", False),
        ("2014", "2014-03", False),  # coarser than the gold: which month?
        ("2014", "2014-03-05", False),
        ("2014-03", "2014-03-05", False),
        ("March 2014", "2014-03", True),
        ("5 March 2014", "2014-03", True),
        ("2014-03-05T00:00:00Z", "2014-03-05", True),
        ("not a date", "2014", False),
        ("", "2014", False),
        ("dalmar", "Dalmar", True),  # a gold that is no time compares as text
        ("Aldovia", "Dalmar", False),
    ],
)
def test_same_time(predicted: str, gold: str, same: bool) -> None:
    assert same_time(predicted, gold) is same
