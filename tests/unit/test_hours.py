from datetime import date, datetime

import pytest
from zoneinfo import ZoneInfo

from posta.config import ConfigError, parse_hours
from posta.hours import business_now

BA = ZoneInfo("America/Argentina/Buenos_Aires")
MADRID = ZoneInfo("Europe/Madrid")


def schedule(hours, tz=BA, holidays=()):
    return parse_hours(hours, tz, frozenset(holidays))


WEEKDAYS_10_19 = {d: ["10:00-19:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def test_open_inside_a_range_and_closed_outside():
    s = schedule(WEEKDAYS_10_19)
    assert s.is_open(datetime(2026, 11, 25, 10, 0, tzinfo=BA))  # Wednesday, opening minute
    assert s.is_open(datetime(2026, 11, 25, 18, 59, tzinfo=BA))
    assert not s.is_open(datetime(2026, 11, 25, 19, 0, tzinfo=BA))  # closing minute is closed
    assert not s.is_open(datetime(2026, 11, 28, 12, 0, tzinfo=BA))  # Saturday


def test_next_opening_skips_the_weekend():
    s = schedule(WEEKDAYS_10_19)
    friday_night = datetime(2026, 11, 27, 20, 0, tzinfo=BA)
    assert s.next_opening(friday_night) == datetime(2026, 11, 30, 10, 0, tzinfo=BA)


def test_holiday_closes_the_day_and_moves_the_next_opening():
    s = schedule(WEEKDAYS_10_19, holidays=[date(2026, 12, 8)])  # a Tuesday
    assert not s.is_open(datetime(2026, 12, 8, 12, 0, tzinfo=BA))
    monday_night = datetime(2026, 12, 7, 21, 0, tzinfo=BA)
    assert s.next_opening(monday_night) == datetime(2026, 12, 9, 10, 0, tzinfo=BA)


def test_overnight_range_runs_past_midnight_even_into_a_holiday():
    s = schedule({"friday": ["20:00-02:00"]}, holidays=[date(2026, 11, 28)])
    assert s.is_open(datetime(2026, 11, 27, 23, 30, tzinfo=BA))
    assert s.is_open(datetime(2026, 11, 28, 1, 59, tzinfo=BA))  # Saturday is a holiday, shift began Friday
    assert not s.is_open(datetime(2026, 11, 28, 2, 0, tzinfo=BA))


def test_time_zones_are_respected():
    s = schedule(WEEKDAYS_10_19, tz=MADRID)
    # 09:30 UTC on a November Wednesday is 10:30 in Madrid (UTC+1): open.
    assert s.is_open(datetime(2026, 11, 25, 9, 30, tzinfo=ZoneInfo("UTC")))
    # The same instant is 06:30 in Buenos Aires: closed there.
    assert not schedule(WEEKDAYS_10_19).is_open(datetime(2026, 11, 25, 9, 30, tzinfo=ZoneInfo("UTC")))


def test_daylight_saving_change_keeps_local_opening_time():
    s = schedule({"monday": ["09:00-17:00"]}, tz=MADRID)
    # Madrid moves to summer time on Sunday 2027-03-28; Monday opens at 09:00 local.
    opening = s.next_opening(datetime(2027, 3, 27, 12, 0, tzinfo=MADRID))
    assert opening.astimezone(MADRID).hour == 9
    assert opening.utcoffset().total_seconds() == 2 * 3600


def test_posta_now_overrides_the_clock(monkeypatch):
    monkeypatch.setenv("POSTA_NOW", "2026-11-29T23:10")
    assert business_now(BA) == datetime(2026, 11, 29, 23, 10, tzinfo=BA)
    monkeypatch.setenv("POSTA_NOW", "2026-11-30T02:10+00:00")
    assert business_now(BA) == datetime(2026, 11, 29, 23, 10, tzinfo=BA)


def test_bad_ranges_are_clear_errors():
    with pytest.raises(ConfigError, match="monday"):
        schedule({"monday": ["10-19h"]})
    with pytest.raises(ConfigError, match="funday"):
        schedule({"funday": ["10:00-12:00"]})
