"""A customer writes to the owner's WhatsApp support number; the gateway pushes it by webhook."""

from __future__ import annotations

import pytest

from panelrelay.customers.models import ChatEntry, CustomerAsk
from panelrelay.customers.tests.conftest import ALIAS, ANN, EXT, PROVIDER, WA_GROUP, link, run_jobs
from panelrelay.forwarding.models import ForwardRequest, RequestOrder
from panelrelay.transports import hooks
from panelrelay.transports.models import Connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def webhook(wired, fake_waha, live_server, settings):
    settings.SITE_URL = live_server.url
    Connection.objects.filter(pk=wired.wa.pk).update(receive=Connection.RECEIVE_WEBHOOK)
    wired.wa.refresh_from_db()
    fake_waha.webhook_url = hooks.url_for(wired.wa)
    return wired


def answers_to(fake, chat: str) -> list[str]:
    return [m["text"] for m in fake.messages_to(chat)]


def test_a_linked_customers_refill_reaches_the_provider_and_the_customer_is_answered(webhook, fake_waha) -> None:
    ann = link(webhook)
    fake_waha.write(ANN, "Hi, refill 45323 45324 please", sender=ANN, name="Ann")
    assert fake_waha.webhook_results == [200]
    run_jobs()
    [to_provider] = answers_to(fake_waha, WA_GROUP)
    assert str(EXT + 45323) in to_provider and str(EXT + 45324) in to_provider
    [answer] = answers_to(fake_waha, ANN)
    assert "45323, 45324" in answer and "forwarded" in answer
    for secret in (PROVIDER, ALIAS, "canary"):
        assert secret.casefold() not in answer.casefold()
    request = ForwardRequest.objects.get()
    assert (request.source, request.ticket_user) == (ForwardRequest.CUSTOMER, "ann")
    assert set(request.orders.values_list("state", flat=True)) == {RequestOrder.SENT}
    # Logged per customer, with the request it created linked.
    log = list(ChatEntry.objects.filter(customer=ann).order_by("id").values_list("direction", "kind", "request"))
    assert log == [("in", "request", request.pk), ("out", "answer", request.pk)]
    assert CustomerAsk.objects.get().answered_at is not None


def test_an_unlinked_customer_gets_the_link_steps_and_no_request(webhook, fake_waha) -> None:
    fake_waha.write(ANN, "refill 45323", sender=ANN, name="Ann")
    run_jobs()
    [answer] = answers_to(fake_waha, ANN)
    assert "support ticket" in answer and "LINK-" in answer
    assert not ForwardRequest.objects.exists() and answers_to(fake_waha, WA_GROUP) == []


def test_a_webhook_delivered_twice_makes_one_request_and_one_answer(webhook, fake_waha) -> None:
    link(webhook)
    fake_waha.write(ANN, "refill 45323", sender=ANN, name="Ann", deliveries=3)
    assert fake_waha.webhook_results == [200, 200, 200]
    run_jobs()
    assert ForwardRequest.objects.count() == 1
    assert len(answers_to(fake_waha, ANN)) == 1
