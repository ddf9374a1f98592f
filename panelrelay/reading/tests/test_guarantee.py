"""The refill guarantee read from a service name, and whether a refill is still allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from panelrelay.reading.guarantee import Guarantee, refill_allowed, refill_period


@pytest.mark.parametrize(
    ("name", "days", "text"),
    [
        ("Instagram Followers [30 Days Refill]", 30, "30 Days Refill"),
        ("IG Followers 30D Refill", 30, "30D Refill"),
        ("IG Followers | R30 | Max 100K", 30, "R30"),
        ("TikTok Likes ♻️ 30D", 30, "♻️ 30D"),
        ("TikTok Likes ♻30 days", 30, "♻30 days"),
        ("YouTube Views - Refill 30 days", 30, "Refill 30 days"),
        ("Instagram Followers [Refill: 60D] [Max 50K]", 60, "Refill: 60D"),
        ("Followers 365 Days ♻️", 365, "365 Days ♻️"),
        ("Followers 1 Month Refill", 30, "1 Month Refill"),
        ("Followers [3 months]", 90, "3 months"),
        ("Followers | 1 Year", 365, "1 Year"),
        ("Followers | 2 Weeks Refill", 14, "2 Weeks Refill"),
        ("Followers | 30 Days Guarantee", 30, "30 Days Guarantee"),
        ("Followers | Non Drop | 30 Days", 30, "30 Days"),
        ("Followers 🔄 90 Days", 90, "🔄 90 Days"),
        ("𝐅𝐨𝐥𝐥𝐨𝐰𝐞𝐫𝐬 𝟑𝟎 𝐃𝐚𝐲𝐬 𝐑𝐞𝐟𝐢𝐥𝐥", 30, "𝟑𝟎 𝐃𝐚𝐲𝐬 𝐑𝐞𝐟𝐢𝐥𝐥"),
        ("Lifetime Non Drop | 30 Days Refill", 30, "30 Days Refill"),  # the stated refill period wins
    ],
)
def test_it_reads_refill_periods(name: str, days: int, text: str) -> None:
    assert refill_period(name) == Guarantee(days, False, text)


@pytest.mark.parametrize("name", ["Instagram Followers [Lifetime Refill]", "Lifetime ♻️", "Followers Unlimited Refill"])
def test_it_reads_lifetime_refills(name: str) -> None:
    guarantee = refill_period(name)
    assert guarantee is not None and guarantee.lifetime and guarantee.days is None


@pytest.mark.parametrize(
    "name", ["IG Likes [No Refill]", "IG Likes Non-Refill", "Views without refill", "Views [Refill: No]", "No ♻️"]
)
def test_it_reads_no_refill(name: str) -> None:
    guarantee = refill_period(name)
    assert guarantee is not None and guarantee.days == 0 and not guarantee.lifetime


@pytest.mark.parametrize(
    "name",
    [
        "Instagram Followers Non Drop",
        "1000 Followers",
        "IG Likes [Max 50K]",
        "Followers [Start: 0-1 Hour] [Speed: 10K/Day]",
        "Followers | Start 1-2 Days",
        "Followers | Start Time: 1 Day",
        "Followers | Delivered within 3 days",
        "Followers [Real Accounts 3 months old]",
        "Followers | Refill No Drop",
        "Views 24 Hours",
        "Followers Speed 5000/Day",
        "",
        "   ",
    ],
)
def test_it_reads_no_period_where_none_is_stated(name: str) -> None:
    assert refill_period(name) is None


def test_it_refuses_a_refill_after_the_period() -> None:
    created = datetime(2026, 5, 15, 10, 0, tzinfo=UTC)
    allowed, reason = refill_allowed("IG Followers [30 Days Refill]", created, datetime(2026, 6, 20, tzinfo=UTC))
    assert (allowed, reason) == (False, "refill period of 30 days ended on 2026-06-14")


def test_it_allows_a_refill_within_the_period() -> None:
    created = datetime(2026, 5, 15, 10, 0, tzinfo=UTC)
    allowed, reason = refill_allowed("IG Followers R30", created, created + timedelta(days=29, hours=23))
    assert allowed and reason == "within the refill period of 30 days (until 2026-06-14)"
    assert refill_allowed("IG Followers R1", created, created + timedelta(hours=2))[1].startswith(
        "within the refill period of 1 day "
    )


def test_it_allows_without_a_period_and_always_for_lifetime() -> None:
    long_ago, now = datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    assert refill_allowed("Followers Non Drop", long_ago, now) == (True, "no refill period in the service name")
    allowed, reason = refill_allowed("Followers Lifetime ♻️", long_ago, now)
    assert allowed and "lifetime refill" in reason


def test_it_refuses_a_service_without_refill() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    allowed, reason = refill_allowed("IG Likes [No Refill]", now, now)
    assert not allowed
    assert "no refill" in reason and "“No Refill”" in reason


def test_it_compares_naive_panel_times_as_utc() -> None:
    created = datetime(2026, 5, 15, 10, 0)  # naive, as panels report it
    assert refill_allowed("30 Days Refill", created, datetime(2026, 6, 1, tzinfo=UTC))[0] is True
    plus_five = timezone(timedelta(hours=5))
    assert refill_allowed("30 Days Refill", created, datetime(2026, 6, 14, 14, 59, tzinfo=plus_five))[0] is True
    assert refill_allowed("30 Days Refill", created, datetime(2026, 6, 14, 15, 1, tzinfo=plus_five))[0] is False


def test_it_survives_a_period_beyond_the_calendar() -> None:
    allowed, reason = refill_allowed("9999 Years Refill", datetime(2026, 1, 1), datetime(2026, 2, 1))
    assert allowed and "9999 Years Refill" in reason
