"""The home page: the set-up checklist step by step, who lands where, and the dashboard's figures
on a known set of requests and orders (the numbers asserted, not just a 200)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.utils import timezone

from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.checklist import checklist
from panelrelay.forwarding.dashboard import dashboard
from panelrelay.forwarding.models import AnswerKind, ForwardRequest, Outcome, RequestOrder, TallyDay
from panelrelay.panels.models import Panel, Provider
from panelrelay.routing.models import ProviderRoute, RoutingDefaults
from panelrelay.transports.models import Connection, Destination

MIN = timedelta(minutes=1)


def done(workspace) -> list[str]:
    return [s.key for s in checklist(workspace).steps if s.done]


class ChecklistTestCase(BaseTestCase):
    def test_each_step_ticks_as_it_is_done_and_the_list_goes_when_complete(self) -> None:
        ws = self.workspace
        self.assertEqual(done(ws), [])
        self.assertEqual(checklist(ws).next_step.key, "panel")

        panel = Panel(workspace=ws, name="Main", url="https://p.example", check_ok=False,
                      check_message="Panel “Main”: there is no panel API at this address (HTTP 404)")  # fmt: skip
        panel.set_api_key("k" * 20)
        panel.save()
        steps = checklist(ws)
        self.assertEqual(done(ws), [])  # added but failing: not done, and the step says why
        self.assertIn("“Main” failed its test: There is no panel API at this address", steps.steps[0].help)

        Panel.objects.filter(pk=panel.pk).update(check_ok=True)
        self.assertEqual(done(ws), ["panel"])
        provider = Provider.objects.create(workspace=ws, alias="Fast_A", domain_enc="x", domain_hmac="a")
        self.assertEqual(done(ws), ["panel", "providers"])

        conn = Connection.objects.create(workspace=ws, kind="telegram", name="Bot", status="broken")
        self.assertEqual(done(ws), ["panel", "providers"])  # a broken connection is not a working one
        Connection.objects.filter(pk=conn.pk).update(status="working")
        self.assertEqual(done(ws)[-1], "connection")

        dest = Destination.objects.create(workspace=ws, name="Grp", kind="tg_group", target="-1", connection=conn)
        self.assertEqual(done(ws)[-1], "destinations")

        defaults = RoutingDefaults.of(ws)
        defaults.fallback_destination = dest
        defaults.save()  # a fallback alone routes every provider
        self.assertEqual(done(ws)[-1], "routes")
        defaults.fallback_destination = None
        defaults.save()
        self.assertNotIn("routes", done(ws))
        ProviderRoute.objects.create(workspace=ws, provider=provider, destination=dest)
        self.assertIn("routes", done(ws))

        request = ForwardRequest.objects.create(workspace=ws, panel_name="Main", command_label="Refill")
        RequestOrder.objects.create(request=request, workspace=ws, panel_order_id="1", command_slug="refill",
                                    state=RequestOrder.SKIPPED, outcome=Outcome.COOLDOWN)  # fmt: skip
        self.assertFalse(checklist(ws).complete)  # a forward with nothing sent is not the first forward
        RequestOrder.objects.create(request=request, workspace=ws, panel_order_id="2", command_slug="refill",
                                    state=RequestOrder.SENT, outcome=Outcome.SENT)  # fmt: skip
        with self.assertNumQueries(1):  # every step in one query once the panel works
            self.assertTrue(checklist(ws).complete)
        self.assertEqual(checklist(self.other_workspace).done_count, 0)  # another workspace's steps are its own

    def test_the_home_page_shows_the_checklist_to_a_new_owner_and_links_each_step(self) -> None:
        self.login(self.alice)
        html = self.client.get("/").content.decode()
        self.assertIn('id="setup-checklist"', html)
        self.assertIn("0 of 6 done", html)
        for url in ("/panels/", "/settings/connections/", "/destinations/", "/routing/", "/forward/"):
            self.assertIn(f'href="{url}"', html)
        self.assertIn('id="home-forward"', html)  # Forward stays one click away
        self.assertIn("Nothing forwarded in the last 30 days", html)

    def test_staff_without_activity_land_on_forward_and_staff_with_it_see_the_dashboard_only(self) -> None:
        self.login(self.bob)
        self.assertRedirects(self.client.get("/"), "/forward/")
        self.staff.can_activity = True
        self.staff.save()
        html = self.client.get("/").content.decode()
        self.assertIn('id="dashboard"', html)
        self.assertNotIn('id="setup-checklist"', html)  # set-up is the owner's

    def test_staff_with_neither_land_on_their_own_activity(self) -> None:
        self.staff.can_forward = False
        self.staff.save()
        self.login(self.bob)
        self.assertRedirects(self.client.get("/"), "/activity/", fetch_redirect_response=False)


class DashboardTestCase(BaseTestCase):
    """Known data: 3 requests today (2 Refill, 1 Cancel), 1 Refill 5 days ago, one 40 days ago."""

    def setUp(self) -> None:
        super().setUp()
        self.now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)  # all of "today" is today
        self.today = self.request("Refill", self.now - 10 * MIN)
        self.today2 = self.request("Refill", self.now - 20 * MIN)
        self.cancel = self.request("Cancel", self.now - 30 * MIN)
        self.five = self.request("Refill", self.now - timedelta(days=5))
        old = self.request("Refill", self.now - timedelta(days=40))
        # today: Fast_A: 4 sent (after 1, 2, 3, 10 min; 3 answered after 5, 5, 20 min), 1 failed;
        #        Slow_B: 5 sent (after 4 min each), 5 failed; 2 skipped (cooldown), 1 skipped (not found).
        for wait, answer in ((1, 5), (2, 5), (3, 20), (10, None)):
            self.order(self.today, "Fast_A", RequestOrder.SENT, Outcome.SENT, sent=wait, answered=answer)
        self.order(self.today, "Fast_A", RequestOrder.FAILED, Outcome.DELIVERY_FAILED)
        for _ in range(5):
            self.order(self.today2, "Slow_B", RequestOrder.SENT, Outcome.SENT, sent=4)
            self.order(self.today2, "Slow_B", RequestOrder.FAILED, Outcome.DELIVERY_FAILED)
        self.order(self.cancel, "Fast_A", RequestOrder.SKIPPED, Outcome.COOLDOWN)
        self.order(self.cancel, "Fast_A", RequestOrder.SKIPPED, Outcome.COOLDOWN)
        self.order(self.cancel, "", RequestOrder.SKIPPED, Outcome.NOT_FOUND)
        # five days ago: one order still retrying; 40 days ago (outside): sent, not counted.
        self.order(self.five, "Fast_A", RequestOrder.RETRYING, Outcome.SEND_RETRYING)
        self.order(old, "Fast_A", RequestOrder.SENT, Outcome.SENT, sent=1)
        # another workspace's request today: never counted here.
        theirs = ForwardRequest.objects.create(workspace=self.other_workspace, panel_name="P", command_label="Refill")
        RequestOrder.objects.create(request=theirs, workspace=self.other_workspace, panel_order_id="9",
                                    command_slug="refill", state=RequestOrder.SENT, provider_alias="Fast_A")  # fmt: skip

    def request(self, label: str, at: datetime) -> ForwardRequest:
        return ForwardRequest.objects.create(
            workspace=self.workspace, panel_name="Main", command_label=label, created=at
        )

    def order(self, request, alias, state, outcome, *, sent=None, answered=None) -> None:
        sent_at = request.created + sent * MIN if sent is not None else None
        RequestOrder.objects.create(
            request=request, workspace=self.workspace, panel_order_id="1", command_slug="x", state=state,
            outcome=outcome, provider_alias=alias, sent_at=sent_at,
            answered_at=sent_at + answered * MIN if answered is not None else None,
            answer_kind=AnswerKind.DONE if answered is not None else "",
            updated=request.created + timedelta(hours=3),  # when it last changed, as the engine sets it
        )  # fmt: skip

    def test_the_figures_of_a_known_month(self) -> None:
        board = dashboard(self.workspace.id, now=self.now)
        self.assertEqual(len(board.days), 30)
        self.assertEqual(board.requests.total, 4)
        self.assertEqual(board.orders.total, 19)
        today = board.requests.bars[-1]
        self.assertEqual([(s.label, s.count) for s in today.segments], [("Refill", 2), ("Cancel", 1)])
        self.assertEqual([(s.label, s.count) for s in board.orders.bars[-1].segments], [("Refill", 15), ("Cancel", 3)])
        self.assertEqual(board.orders.bars[-6].total, 1)  # five days ago
        self.assertEqual(board.orders.peak, 18)
        self.assertEqual(
            [(s.label, s.count) for s in board.outcomes],
            [
                ("Sent", 9),
                ("Skipped: Already requested (cooldown)", 2),
                ("Skipped: Not found in the panel", 1),
                ("Failed: Delivery failed", 6),
                ("Still open (looking up, queued, retrying, needs a route)", 1),
            ],
        )
        self.assertAlmostEqual(sum(s.width for s in board.outcomes), 100.0)
        self.assertEqual([(r.alias, r.orders) for r in board.by_volume], [("Slow_B", 10), ("Fast_A", 8)])
        self.assertEqual(
            [(r.alias, r.failed, r.orders) for r in board.by_failure], [("Slow_B", 5, 10), ("Fast_A", 1, 8)]
        )
        # Medians come from histograms of 10 %-wide buckets: within 5 % of the true one.
        self.assertLess(abs(board.to_sent - 4 * MIN), 0.05 * 4 * MIN)  # after 1, 2, 3, 10 and 4×5 minutes
        answers = {r.alias: (r.sent, r.answered) for r in board.answers}
        self.assertEqual(answers, {"Fast_A": (4, 3), "Slow_B": (5, 0)})
        slow, fast = board.answers  # by orders sent
        self.assertLess(abs(fast.answer_median - 5 * MIN), 0.05 * 5 * MIN)  # answered after 5, 5 and 20 minutes
        self.assertIsNone(slow.answer_median)

    def test_the_page_shows_the_figures(self) -> None:
        self.login(self.alice)
        html = self.client.get("/").content.decode()
        self.assertEqual(re.search(r'id="stat-requests">([^<]+)<', html).group(1), "4")
        self.assertEqual(re.search(r'id="stat-orders">([^<]+)<', html).group(1), "19")
        self.assertIn('id="stat-sent">9 <span class="small text-body-secondary fw-normal">(47 %)', html)
        self.assertIn('id="stat-to-sent">4 min<', html)
        self.assertIn("<title>", html)  # each day's bar says its numbers on hover
        self.assertIn("Failed: Delivery failed", html)
        self.assertIn("Slow_B", html)
        self.assertNotIn("style=", html.split('id="dashboard"')[1])  # CSP: no inline styles in the charts

    def test_an_empty_month_says_what_will_appear(self) -> None:
        RequestOrder.objects.all().delete()
        ForwardRequest.objects.all().delete()
        board = dashboard(self.workspace.id, now=self.now)
        self.assertTrue(board.empty)
        self.login(self.alice)
        html = self.client.get("/").content.decode()
        self.assertIn("Nothing forwarded in the last 30 days", html)
        self.assertIn("how often and how fast each provider answers", html)
        self.assertNotIn('<svg class="chart-days"', html)

    def test_a_bounded_number_of_queries(self) -> None:
        dashboard(self.workspace.id, now=self.now)  # the first view counts the past days once
        with self.assertNumQueries(9):  # requests, the changed-orders look (3), tallied days (4), live orders
            dashboard(self.workspace.id, now=self.now)
        self.assertEqual(TallyDay.objects.filter(workspace=self.workspace).count(), 29)

    def test_a_tallied_day_whose_order_changes_is_counted_again(self) -> None:
        first = dashboard(self.workspace.id, now=self.now)
        self.assertEqual(first.outcomes[-1].label, "Still open (looking up, queued, retrying, needs a route)")
        five_days_ago = self.five.created
        RequestOrder.objects.filter(request=self.five).update(
            state=RequestOrder.SENT, outcome=Outcome.SENT, sent_at=five_days_ago + 2 * MIN, updated=timezone.now()
        )  # the retry went out later, as delivery.py records it
        again = dashboard(self.workspace.id, now=self.now)
        self.assertEqual([(s.label, s.count) for s in again.outcomes][0], ("Sent", 10))
        self.assertNotIn("Still open", " ".join(s.label for s in again.outcomes))
        self.assertEqual(again.orders.bars[-6].total, 1)

    def test_medians_over_tallied_days_are_within_five_percent(self) -> None:
        self.order(self.five, "Fast_A", RequestOrder.SENT, Outcome.SENT, sent=120, answered=30)
        board = dashboard(self.workspace.id, now=self.now)
        # request → sent: 1, 2, 3, 4, 4, 4, 4, 4, 10 and 120 minutes: the median's bucket holds 4 minutes
        self.assertLess(abs(board.to_sent.total_seconds() - 240), 240 * 0.05)
        fast = next(r for r in board.answers if r.alias == "Fast_A")
        self.assertEqual((fast.sent, fast.answered), (5, 4))  # answered after 5, 5, 20 and 30 minutes
        self.assertLess(abs(fast.answer_median.total_seconds() - 750), 750 * 0.05)  # between 5 and 20: 12.5 min
