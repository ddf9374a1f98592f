"""The provider scorecard: exact numbers on a constructed set of orders, on both pages, per workspace."""

from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import AnswerKind, ForwardRequest, Progress, RequestOrder
from panelrelay.forwarding.scorecard import chart, daily, median, p90, scores
from panelrelay.panels.models import Provider

MIN = timedelta(minutes=1)


def cells(html: str) -> list[list[str]]:
    """The scorecard table as text, row by row."""
    table = re.search(r'<table[^>]*id="scorecard-table".*?</table>', html, re.S)
    assert table, "no scorecard table"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows
    ]


class ScorecardTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.now = timezone.now()
        self.fast = Provider.objects.create(workspace=self.workspace, alias="Fast_A", domain_enc="x", domain_hmac="a")
        self.idle = Provider.objects.create(workspace=self.workspace, alias="Idle_B", domain_enc="x", domain_hmac="b")
        self.request = ForwardRequest.objects.create(
            workspace=self.workspace, panel_name="Main", command_label="Refill"
        )
        day1, day2, day10 = (self.now - timedelta(days=n) for n in (1, 2, 10))
        # Last 7 days: six sent, five answered after 1, 3 | 2, 4, 10 minutes; two confirmed, one
        # refused, one escalated (the one never answered).
        self.sent(day1, 1 * MIN, confirmed=True)
        self.sent(day1, 3 * MIN, confirmed=True)
        self.sent(day1, None, escalated=True)
        self.sent(day2, 2 * MIN)
        self.sent(day2, 4 * MIN, kind=AnswerKind.REFUSED)
        self.sent(day2, 10 * MIN)
        # 8 to 30 days ago: four more, answered after 20, 30, 40, 60 minutes, one of them refused.
        for wait in (20, 30, 40):
            self.sent(day10, wait * MIN)
        self.sent(day10, 60 * MIN, kind=AnswerKind.REFUSED)
        # Not counted: older than 30 days, never sent, another provider's.
        self.sent(self.now - timedelta(days=40), 1 * MIN)
        self.sent(day1, None, state=RequestOrder.SKIPPED)
        other = Provider.objects.create(workspace=self.other_workspace, alias="Fast_A", domain_enc="x", domain_hmac="a")
        self.sent(day1, 1 * MIN, provider=other, workspace=self.other_workspace)

    def sent(self, at, wait, *, kind=AnswerKind.DONE, confirmed=False, escalated=False, state=RequestOrder.SENT,
             provider=None, workspace=None) -> None:  # fmt: skip
        RequestOrder.objects.create(
            request=self.request, workspace=workspace or self.workspace, panel_order_id="1", command_slug="refill",
            state=state, provider=provider or self.fast, provider_alias="Fast_A",
            sent_at=at if state == RequestOrder.SENT else None,
            progress=Progress.CONFIRMED if confirmed else (Progress.ANSWERED if wait else Progress.NONE),
            answer_kind=kind if wait else "", answered_at=at + wait if wait else None,
            confirmed_at=at + 2 * wait if confirmed else None, escalated_at=at + timedelta(hours=12) if escalated else None,
        )  # fmt: skip

    def test_it_counts_each_window_exactly(self) -> None:
        week = scores(self.workspace.pk, [self.fast.pk, self.idle.pk], 7, now=self.now)
        month = scores(self.workspace.pk, [self.fast.pk, self.idle.pk], 30, now=self.now)
        assert set(week) == {self.fast.pk}  # nothing sent to Idle_B: no score rather than zeros
        w, m = week[self.fast.pk], month[self.fast.pk]
        assert (w.requests, w.answered, w.confirmed, w.refused, w.escalated) == (6, 5, 2, 1, 1)
        assert (w.median, w.p90) == (3 * MIN, 10 * MIN)  # of 1, 2, 3, 4, 10
        assert (m.requests, m.answered, m.confirmed, m.refused, m.escalated) == (10, 9, 2, 2, 1)
        assert (m.median, m.p90) == (10 * MIN, 60 * MIN)  # of 1, 2, 3, 4, 10, 20, 30, 40, 60

    def test_median_and_p90_definitions(self) -> None:
        assert median([4 * MIN, 1 * MIN, 2 * MIN, 3 * MIN]) == timedelta(seconds=150)  # the two middle ones
        assert p90([n * MIN for n in range(1, 11)]) == 9 * MIN  # nearest rank: 9 of 10 within 9 min
        assert p90([n * MIN for n in range(1, 12)]) == 10 * MIN  # ceil(9.9) = the 10th of 11
        assert median([]) is None and p90([]) is None

    def test_the_chart_has_a_bar_per_day_with_answers(self) -> None:
        days = daily(self.workspace.pk, self.fast.pk, now=self.now)
        assert len(days) == 30 and days[-1].day == timezone.localdate(self.now)
        answered = {d.day: (d.answers, d.median) for d in days if d.answers}
        today = timezone.localdate(self.now)
        assert answered == {
            today - timedelta(days=1): (2, 2 * MIN),
            today - timedelta(days=2): (3, 4 * MIN),
            today - timedelta(days=10): (4, 35 * MIN),
        }
        drawn = chart(days)
        assert drawn is not None and drawn.scale == "35 min" and len(drawn.bars) == 3
        tallest = max(drawn.bars, key=lambda b: b["height"])
        assert (tallest["y"], tallest["height"]) == (drawn.top, drawn.bottom - drawn.top)
        assert chart(daily(self.workspace.pk, self.idle.pk, now=self.now)) is None

    def test_the_provider_page_shows_the_scorecard(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("panels:provider", args=[self.fast.code])).content.decode()
        assert reverse("forwarding:scorecard", args=[self.fast.code]) in page  # loaded by htmx
        r = self.client.get(reverse("forwarding:scorecard", args=[self.fast.code]))
        assert cells(r.content.decode()) == [
            ["", "Last 7 days", "Last 30 days"],
            ["Requests", "6", "10"],
            ["Answered", "83 %", "90 %"],
            ["Median time to answer", "3 min", "10 min"],
            ["90 % answered within", "10 min", "1 h"],
            ["Confirmed by the panel", "33 %", "20 %"],
            ["Refused", "17 %", "20 %"],
            ["Escalated", "17 %", "10 %"],
        ]
        self.assertContains(r, '<svg class="scorecard-chart"')
        assert r.content.decode().count("<rect ") == 3

    def test_a_provider_with_nothing_sent_says_no_data_yet(self) -> None:
        self.login(self.alice)
        r = self.client.get(reverse("forwarding:scorecard", args=[self.idle.code]))
        self.assertContains(r, "No data yet")
        self.assertNotContains(r, "scorecard-table")

    def test_the_providers_page_has_a_column_for_the_last_7_days(self) -> None:
        self.login(self.alice)
        r = self.client.get(reverse("panels:providers"))
        self.assertContains(r, "Answered · median (7 d)")
        self.assertContains(r, "83 % · 3 min")
        row = re.search(rf'<tr id="provider-{self.idle.code}">.*?</tr>', r.content.decode(), re.S)
        assert row and "no data yet" in row.group(0)
        assert reverse("panels:provider", args=[self.idle.code]) in row.group(0)

    def test_another_workspaces_provider_is_a_404_and_staff_without_panels_a_403(self) -> None:
        self.login(self.charlie)
        for name in ("panels:provider", "forwarding:scorecard"):
            assert self.client.get(reverse(name, args=[self.fast.code])).status_code == 404
        self.staff.can_panels = False
        self.staff.save()
        self.login(self.bob)
        assert self.client.get(reverse("forwarding:scorecard", args=[self.fast.code])).status_code == 403
