"""The Chinese working-day calendar as a pure value (DESIGN.md, "Time").

The calendar is data the province owns: one row per date (workday or not, kind, name, source,
confirmed).  :class:`WorkdayCalendar` is built from those rows plus the set of *confirmed* years, i.e.
years whose State Council holiday schedule has been loaded.  Dates in any other year fall back to
Monday–Friday, and every result that touched such a date is marked provisional, to be recomputed
once the year is loaded.

:func:`days_from_chinesecalendar` seeds rows from the ``chinesecalendar`` package.  It is the only
place in the system that imports the package; nothing on a request path calls it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "CHINESECALENDAR_SOURCE",
    "CalendarDay",
    "DayKind",
    "Deadline",
    "WorkdayCalendar",
    "days_from_chinesecalendar",
    "horizon_alert",
]

CHINESECALENDAR_SOURCE = "chinesecalendar==1.11.0"

_ONE_DAY = timedelta(days=1)


class DayKind(enum.StrEnum):
    WORKDAY = "workday"  # Monday–Friday, normal working day
    WEEKEND = "weekend"  # Saturday/Sunday, normal rest day
    HOLIDAY = "holiday"  # statutory holiday or a day off in lieu (any weekday)
    ADJUSTED_WORKDAY = "adjusted_workday"  # 调休上班: a Saturday/Sunday that is a working day


_WORKING_KINDS = frozenset({DayKind.WORKDAY, DayKind.ADJUSTED_WORKDAY})


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


@dataclass(frozen=True, slots=True)
class CalendarDay:
    on: date
    is_workday: bool
    kind: DayKind
    name: str | None
    source: str
    confirmed: bool

    def __post_init__(self) -> None:
        if self.is_workday != (self.kind in _WORKING_KINDS):
            raise ValueError(f"{self.on}: is_workday={self.is_workday} contradicts kind {self.kind}")
        if self.kind in (DayKind.WEEKEND, DayKind.ADJUSTED_WORKDAY) and not _is_weekend(self.on):
            raise ValueError(f"{self.on}: kind {self.kind} needs a Saturday or Sunday")
        if self.kind is DayKind.WORKDAY and _is_weekend(self.on):
            raise ValueError(f"{self.on}: a working Saturday/Sunday is {DayKind.ADJUSTED_WORKDAY}")


@dataclass(frozen=True, slots=True)
class Deadline:
    due_on: date
    provisional: bool  # some day counted lies in an unconfirmed year (Monday–Friday fallback)
    unconfirmed_years: frozenset[int]


def _days_of_year(year: int) -> Iterator[date]:
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += _ONE_DAY


class WorkdayCalendar:
    """Working days from the province's table; unconfirmed years fall back to Monday–Friday.

    Every confirmed year must have a row for each of its days, each marked confirmed; rows for
    years that are not confirmed are kept out of the computation (they may be a draft).
    """

    def __init__(self, days: Iterable[CalendarDay], confirmed_years: Iterable[int]) -> None:
        self._confirmed_years = frozenset(confirmed_years)
        workday: dict[date, bool] = {}
        seen: set[date] = set()
        for row in days:
            if row.on in seen:
                raise ValueError(f"duplicate calendar row for {row.on}")
            seen.add(row.on)
            if row.on.year in self._confirmed_years:
                if not row.confirmed:
                    raise ValueError(f"{row.on} is in confirmed year {row.on.year} but not confirmed")
                workday[row.on] = row.is_workday
        for year in sorted(self._confirmed_years):
            missing = [d for d in _days_of_year(year) if d not in workday]
            if missing:
                raise ValueError(
                    f"confirmed year {year} lacks {len(missing)} calendar rows (first: {missing[0]})"
                )
        self._workday = workday

    @property
    def confirmed_years(self) -> frozenset[int]:
        return self._confirmed_years

    def is_confirmed(self, year: int) -> bool:
        return year in self._confirmed_years

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day (Monday–Friday if its year is not confirmed)."""
        known = self._workday.get(d)
        if known is not None:
            return known
        return not _is_weekend(d)

    def add_workdays(self, start: date, n: int) -> Deadline:
        """The ``n``-th working day after ``start`` (``start`` itself is never counted), n ≥ 1."""
        if n < 1:
            raise ValueError("n must be at least 1")
        unconfirmed: set[int] = set()
        d = start
        remaining = n
        while remaining:
            d += _ONE_DAY
            if d.year not in self._confirmed_years:
                unconfirmed.add(d.year)
            if self.is_workday(d):
                remaining -= 1
        return Deadline(due_on=d, provisional=bool(unconfirmed), unconfirmed_years=frozenset(unconfirmed))

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in the half-open range (a, b]; negative when ``b`` is before ``a``.

        Matches :meth:`add_workdays`: ``workdays_between(s, add_workdays(s, n).due_on) == n``.
        """
        if b < a:
            return -self.workdays_between(b, a)
        count = 0
        d = a + _ONE_DAY
        while d <= b:
            if self.is_workday(d):
                count += 1
            d += _ONE_DAY
        return count


def horizon_alert(cal: WorkdayCalendar, today: date, horizon_workdays: int) -> int | None:
    """The first unconfirmed year a deadline ``horizon_workdays`` working days after ``today``
    would reach, or None when that whole span lies in confirmed years."""
    deadline = cal.add_workdays(today, horizon_workdays)
    return min(deadline.unconfirmed_years) if deadline.unconfirmed_years else None


def days_from_chinesecalendar(years: Iterable[int]) -> list[CalendarDay]:
    """Calendar rows for every day of each given year the ``chinesecalendar`` package covers.

    Years the package has no data for (it raises NotImplementedError; 1.11.0 covers 2004–2026)
    are skipped.  Holiday names are given in Chinese (国庆节, 春节, …) where the package names the
    day; an adjusted working day carries the name of the holiday it makes up for.
    """
    import chinese_calendar

    def chinese_name(package_name: str | None) -> str | None:
        if package_name is None:
            return None
        try:
            return str(chinese_calendar.Holiday(package_name).chinese)
        except ValueError:  # a name newer than the enum: keep the package's own text
            return package_name

    rows: list[CalendarDay] = []
    for year in sorted(set(years)):
        try:
            chinese_calendar.get_holiday_detail(date(year, 1, 1))
        except NotImplementedError:
            continue
        for d in _days_of_year(year):
            is_rest, package_name = chinese_calendar.get_holiday_detail(d)
            weekend = _is_weekend(d)
            if is_rest:
                # The package names every statutory rest day; an unnamed rest day is a plain weekend.
                kind = DayKind.HOLIDAY if package_name is not None else DayKind.WEEKEND
            else:
                kind = DayKind.ADJUSTED_WORKDAY if weekend else DayKind.WORKDAY
            rows.append(
                CalendarDay(
                    on=d,
                    is_workday=not is_rest,
                    kind=kind,
                    name=chinese_name(package_name),
                    source=CHINESECALENDAR_SOURCE,
                    confirmed=True,
                )
            )
    return rows
