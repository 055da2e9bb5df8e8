"""Days, months and years as integer day numbers, and answer comparison at the gold's granularity.

Every time in the temporal KG is one integer, ``datetime.date.toordinal()``: filters become integer
comparisons and ``np.searchsorted`` works on plain ``int32`` columns, with no calendar logic on the hot
path. Calendar logic lives here, once: a ``Period`` is a day, a month or a year as an inclusive range of
day numbers, which is what "in March 2014" means to a filter and what a time answer means to a verifier.

Temporal QA sets (MultiTQ, TimeQuestions) give gold times at mixed granularity ("2014", "2014-03",
"2014-03-05"), so ``same_time`` judges a predicted time against the gold at the gold's granularity: a
more precise prediction inside the gold period is right, a coarser one is not ("2014" does not say
which month). Agents write dates many ways, so the *predicted* side is read leniently
(``parse_loose``: ISO timestamps, "March 2014", "5 March 2014", "Mar 5, 2014", "2014/03/05"), while
``Period.parse`` stays strict, as the shared contract says.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

Granularity = Literal["day", "month", "year"]
GRANULARITIES: tuple[Granularity, ...] = ("day", "month", "year")

_ISO = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_WORD = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_LOOSE_FORMS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    # 2014-03-05T00:00:00Z, +2014-03-05T00:00:00Z (Wikidata), 2014-03-05 12:00
    (re.compile(r"\+?(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ][\d:.]*z?)?"), ("y", "m", "d")),
    (re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})"), ("y", "m", "d")),
    (re.compile(r"(\d{4})[/.](\d{1,2})"), ("y", "m")),
    (re.compile(r"(\d{1,2})(?:st|nd|rd|th)? (?:of )?" + _MONTH_WORD + r",? (\d{4})"), ("d", "M", "y")),
    (re.compile(_MONTH_WORD + r" (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})"), ("M", "d", "y")),
    (re.compile(_MONTH_WORD + r",? (?:of )?(\d{4})"), ("M", "y")),
)


@dataclass(frozen=True, order=True)
class Period:
    """A day, a month or a year, as the inclusive range ``first..last`` of day numbers."""

    granularity: Granularity
    first: int
    last: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"2014-03-05"`` -> that day, ``"2014-03"`` -> March 2014, ``"2014"`` -> the year.

        Surrounding whitespace is ignored and one-digit months/days are accepted ("2014-3-5"); anything
        else, or an impossible date, is a ``ValueError`` naming the text.
        """
        match = _ISO.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"not a date, month or year (expected YYYY-MM-DD, YYYY-MM or YYYY): {text!r}")
        year, month, day = (int(part) if part else None for part in match.groups())
        try:
            return cls._from_parts(year, month, day)
        except ValueError:
            raise ValueError(f"no such date: {text!r}") from None

    @classmethod
    def _from_parts(cls, year: int, month: int | None, day: int | None) -> Period:
        if month is None:
            return cls("year", dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal())
        if day is None:
            first = dt.date(year, month, 1).toordinal()
            return cls("month", first, first + calendar.monthrange(year, month)[1] - 1)
        ordinal = dt.date(year, month, day).toordinal()
        return cls("day", ordinal, ordinal)

    @classmethod
    def containing(cls, day: int, granularity: Granularity = "day") -> Period:
        """The day, month or year that ``day`` falls in."""
        date = dt.date.fromordinal(day)
        if granularity == "day":
            return cls("day", day, day)
        if granularity == "month":
            return cls._from_parts(date.year, date.month, None)
        if granularity == "year":
            return cls._from_parts(date.year, None, None)
        raise ValueError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")

    def __str__(self) -> str:
        return format_day(self.first, self.granularity)

    def contains(self, day: int) -> bool:
        return self.first <= day <= self.last

    def within(self, other: Period) -> bool:
        """True when this whole period lies inside ``other`` (a day inside its month, a month in its year)."""
        return other.first <= self.first and self.last <= other.last

    @property
    def days(self) -> int:
        return self.last - self.first + 1


def day_of(text: str) -> int:
    """``"2014-03-05"`` -> its day number; a month or year, or anything else, is a ``ValueError``."""
    period = Period.parse(text)
    if period.granularity != "day":
        raise ValueError(f"expected a full date YYYY-MM-DD, got {text!r}")
    return period.first


def format_day(day: int, granularity: Granularity = "day") -> str:
    """Day number -> ``"2014-03-05"``, ``"2014-03"`` or ``"2014"`` (the period holding that day)."""
    date = dt.date.fromordinal(int(day))
    if granularity == "day":
        return date.isoformat()
    if granularity == "month":
        return f"{date.year:04d}-{date.month:02d}"
    if granularity == "year":
        return f"{date.year:04d}"
    raise ValueError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")


def parse_loose(text: str) -> Period | None:
    """Read a time the way people and models write it; ``None`` when it is not one.

    Strict ISO first (``Period.parse``), then ISO timestamps, ``2014/03/05``, ``5 March 2014``,
    ``March 5, 2014``, ``March 2014``, ``Mar. 2014``; case-insensitive, surrounding punctuation ignored.
    Numeric day-first/month-first forms like ``05/03/2014`` are ambiguous and deliberately not read.
    """
    if not isinstance(text, str):
        return None
    cleaned = " ".join(text.strip().strip(".,;:!?\"'()[]").lower().split())
    try:
        return Period.parse(cleaned)
    except ValueError:
        pass
    for pattern, fields in _LOOSE_FORMS:
        match = pattern.fullmatch(cleaned)
        if match is None:
            continue
        parts = dict(zip(fields, match.groups(), strict=True))
        month = int(_MONTHS[parts["M"].rstrip(".")] if "M" in parts else parts.get("m") or 0) or None
        day = int(parts.get("d") or 0) or None  # Wikidata writes year precision as 2014-00-00
        try:
            return Period._from_parts(int(parts["y"]), month, day if month else None)
        except ValueError:
            return None
    return None


def same_time(predicted: str, gold: str) -> bool:
    """True when ``predicted`` names the gold time at the gold's granularity.

    A prediction at least as precise as the gold and inside it counts ("2014-03-05" and "2014-03" both
    match gold "2014"); a coarser one does not ("2014" vs gold "2014-03"). The prediction is read with
    ``parse_loose``; a gold that is not a time falls back to case-insensitive text equality.
    """
    gold_period = parse_loose(gold)
    if gold_period is None:
        return " ".join(str(predicted).lower().split()) == " ".join(str(gold).lower().split())
    predicted_period = parse_loose(predicted)
    return predicted_period is not None and predicted_period.within(gold_period)
