"""What a customer is answered, and when the bot keeps quiet: through the front door, the engine,
the fake panel and the fake WAHA/Telegram, answers read back from what the fakes received."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from panelrelay.customers.models import ChatEntry, ChatState, Customer, CustomerLink, LinkCode, ReplyTemplate
from panelrelay.customers.tests.conftest import ALIAS, ANN, BOB, PROVIDER, TG_ANN, WA_GROUP, customer, link, run_jobs
from panelrelay.forwarding.models import ForwardRequest, Outcome, RequestOrder
from panelrelay.intake import tickets
from panelrelay.transports.incoming import Incoming, receive
from panelrelay.transports.integrations.telegram.updates import poll

pytestmark = pytest.mark.django_db
_ids = itertools.count(1)
CUSTOMER_GROUP = "120363000000000099@g.us"


def say(w, text: str, chat: str = ANN, sender: str = "", private: bool = True, at=None, message_id: str = "") -> bool:
    item = Incoming(connection=w.wa, chat_id=chat, private=private, sender_id=sender or chat, sender_name="Ann",
                    text=text, message_id=message_id or f"m{next(_ids)}", at=at or timezone.now())  # fmt: skip
    return receive(item)


def answers(fake, chat: str = ANN) -> list[str]:
    return [m["text"] for m in fake.messages_to(chat)]


@pytest.fixture(autouse=True)
def canary():
    """Privacy: nothing a customer reads names a provider (domain or alias), whatever the test did."""
    yield
    for text in ChatEntry.objects.filter(direction=ChatEntry.OUT).values_list("text", flat=True):
        for secret in (PROVIDER, ALIAS, "smm-canary", "canary"):
            assert secret.casefold() not in text.casefold(), text


def test_chatter_gets_silence_and_help_gets_the_help_text(wired, fake_waha) -> None:
    link(wired)
    for text in ("hello", "are you there?", "I paid yesterday, order 45323", "refill"):
        assert say(wired, text)  # a customer's chat: taken, logged, not answered
    run_jobs()
    assert answers(fake_waha) == []
    assert ChatEntry.objects.filter(direction=ChatEntry.IN, kind="silent").count() == 4
    say(wired, "menu")
    run_jobs()
    [help_text] = answers(fake_waha)
    assert "refill 12345" in help_text
    assert not ForwardRequest.objects.exists()


def test_another_users_order_is_answered_exactly_like_an_unknown_one(wired, fake_waha) -> None:
    link(wired)
    say(wired, "refill 45325")  # bob's order
    run_jobs()
    say(wired, "refill 99999")  # no such order
    run_jobs()
    theirs, unknown = answers(fake_waha)
    assert theirs.replace("45325", "N") == unknown.replace("99999", "N")
    assert "could not find" in theirs
    outcomes = set(RequestOrder.objects.values_list("outcome", flat=True))
    assert outcomes == {Outcome.NOT_YOURS, Outcome.NOT_FOUND}
    assert answers(fake_waha, WA_GROUP) == []  # nothing reached the provider


def test_a_second_request_in_the_cooldown_is_told_already_requested(wired, fake_waha) -> None:
    link(wired)
    say(wired, "refill 45323")
    run_jobs()
    say(wired, "refill 45323 please")
    run_jobs()
    first, second = answers(fake_waha)
    assert "forwarded" in first and "already requested" in second
    assert len(answers(fake_waha, WA_GROUP)) == 1


def test_fifty_messages_a_minute_get_one_polite_refusal(wired, fake_waha) -> None:
    link(wired)
    start = timezone.now() - timedelta(seconds=50)
    for n in range(50):
        say(wired, f"hello {n}", at=start + timedelta(seconds=n))
    run_jobs()
    [refusal] = answers(fake_waha)
    assert "wait a minute" in refusal
    assert ChatState.objects.get(chat_id=ANN).refused_at is not None
    assert ChatEntry.objects.filter(direction=ChatEntry.IN).count() == 50  # all logged


def test_five_hundred_ids_get_one_refusal_and_no_request(wired, fake_waha) -> None:
    link(wired)
    ids = " ".join(str(100000 + n) for n in range(500))
    say(wired, f"refill {ids}")
    say(wired, f"refill {ids}")
    run_jobs()
    [refusal] = answers(fake_waha)
    assert "at most 100 order numbers" in refusal
    assert not ForwardRequest.objects.exists()


def test_staff_takeover_silences_the_bot_in_that_chat_until_it_ends(wired, fake_waha) -> None:
    link(wired)
    ChatState.objects.create(workspace=wired.ws, connection=wired.wa, chat_id=ANN,
                             paused_until=timezone.now() + timedelta(hours=2))  # fmt: skip
    say(wired, "refill 45323")
    say(wired, "help")
    run_jobs()
    assert answers(fake_waha) == [] and not ForwardRequest.objects.exists()
    assert list(ChatEntry.objects.values_list("kind", flat=True)) == ["paused", "paused"]
    ChatState.objects.filter(chat_id=ANN).update(paused_until=timezone.now() - timedelta(seconds=1))
    say(wired, "refill 45323")
    run_jobs()
    assert len(answers(fake_waha)) == 1


def test_a_blocked_customer_gets_silence(wired, fake_waha) -> None:
    ann = link(wired)
    Customer.objects.filter(pk=ann.pk).update(blocked=True)
    say(wired, "refill 45323")
    run_jobs()
    assert answers(fake_waha) == [] and not ForwardRequest.objects.exists()


def test_the_ticket_code_links_the_customer_to_the_tickets_author(wired, fake_waha, fake_panel) -> None:
    say(wired, "refill 45323")
    run_jobs()
    [steps] = answers(fake_waha)
    code = LinkCode.objects.get()
    assert code.value in steps and code.expires > timezone.now() + timedelta(hours=23)
    say(wired, "refill 45323 again")  # asking again before linking: the same code
    run_jobs()
    assert LinkCode.objects.count() == 1 and code.value in answers(fake_waha)[1]
    fake_panel.add_ticket("mallory", "link", f"my code {code.value}x")  # not the code (a longer word)
    fake_panel.add_ticket("ann", "Link my WhatsApp", f"Hello, here is my code: {code.value.lower()}")
    tickets.poll_panel(wired.panel)
    tickets.poll_panel(wired.panel)  # read again on the next poll: linked once
    [found] = CustomerLink.objects.all()
    assert (found.username, found.panel, found.how) == ("ann", wired.panel, CustomerLink.TICKET)
    run_jobs()
    assert "linked to your panel account ann" in answers(fake_waha)[-1]
    say(wired, "refill 45323")
    run_jobs()
    assert "forwarded" in answers(fake_waha)[-1]
    assert ForwardRequest.objects.get().ticket_user == "ann"


def test_an_expired_or_used_code_links_nobody(wired, fake_panel) -> None:
    ann = customer(wired.ws)
    old = LinkCode.objects.create(workspace=wired.ws, customer=ann, connection=wired.wa, chat_id=ANN,
                                  expires=timezone.now() - timedelta(minutes=1))  # fmt: skip
    fake_panel.add_ticket("ann", "link", old.value)
    tickets.poll_panel(wired.panel)
    assert not CustomerLink.objects.exists()


def test_a_new_proof_replaces_the_proved_username_but_not_staffs_links(wired, fake_panel) -> None:
    ann = link(wired, username="ann")  # by staff
    for user in ("ann2", "ann3"):
        code = LinkCode.objects.create(workspace=wired.ws, customer=ann, connection=wired.wa, chat_id=ANN,
                                       expires=timezone.now() + timedelta(hours=1))  # fmt: skip
        fake_panel.add_ticket(user, "link", code.value)
        tickets.poll_panel(wired.panel)
    assert sorted(CustomerLink.objects.values_list("username", "how")) == [("ann", "staff"), ("ann3", "ticket")]


def test_templates_per_language_and_the_plain_reason(wired, fake_waha, fake_panel) -> None:
    ann = link(wired)
    Customer.objects.filter(pk=ann.pk).update(language="pt-br")
    ReplyTemplate.objects.create(workspace=wired.ws, language="pt", kind="not_eligible",
                                 text="Pedido {ids}: não é possível ({reason}).")  # fmt: skip
    fake_panel.add_order(id=45400, provider=PROVIDER, external_id="9", user="ann", status="Canceled")
    say(wired, "refill 45400")
    run_jobs()
    [answer] = answers(fake_waha)
    assert answer.startswith("Pedido 45400: não é possível (") and "status" in answer


def test_in_a_customer_group_only_requests_and_mentions_are_taken(wired, fake_waha) -> None:
    from panelrelay.customers.models import CustomerChannel

    CustomerChannel.objects.filter(connection=wired.wa).update(groups=[CUSTOMER_GROUP])
    link(wired, number=BOB, username="bob")
    assert say(wired, "anyone else slow today?", chat=CUSTOMER_GROUP, sender=BOB, private=False)
    assert say(wired, "refill 45325", chat=CUSTOMER_GROUP, sender=BOB, private=False)
    run_jobs()
    [answer] = answers(fake_waha, CUSTOMER_GROUP)
    assert "45325" in answer and "forwarded" in answer
    assert ChatEntry.objects.filter(direction=ChatEntry.IN).count() == 1  # the chatter was not logged
    # An unlinked member asking in the group is sent to a private chat: no link code for all to read.
    assert say(wired, "refill 45323", chat=CUSTOMER_GROUP, sender=ANN, private=False)
    run_jobs()
    assert "private chat" in answers(fake_waha, CUSTOMER_GROUP)[-1]
    assert not LinkCode.objects.exists()
    # A group that is not listed is not the customers' (a provider group stays the providers').
    assert not say(wired, "refill 45325", chat=WA_GROUP, sender=BOB, private=False)


def test_a_telegram_customer_by_getupdates_and_the_team_bot_still_works(wired, fake_telegram) -> None:
    link(wired, number=str(TG_ANN), username="ann", network=Customer.TELEGRAM)
    fake_telegram.user_sends(TG_ANN, "/refill 45323", token="123456:DEMO")
    poll(wired.tg)
    run_jobs()
    texts = [m["text"] for m in fake_telegram.messages_to(TG_ANN)]
    assert len(texts) == 1 and "forwarded" in texts[0]
    assert ForwardRequest.objects.get().source == ForwardRequest.CUSTOMER


def test_the_providers_outcome_is_told_later_without_naming_it(wired, fake_waha) -> None:
    from panelrelay.forwarding.models import Message

    link(wired)
    say(wired, "refill 45323 45324")
    run_jobs()
    message = Message.objects.get(destination=wired.group)
    words = f"{ALIAS} says: cannot refill, private account @canary_support {PROVIDER} 9145323"
    receive(Incoming(connection=wired.wa, chat_id=WA_GROUP, private=False, sender_id="447700900999@c.us",
                     sender_name="Prov", text=words, message_id="prov1", reply_to=message.remote_id))  # fmt: skip
    run_jobs()
    first, later = answers(fake_waha)
    assert "forwarded" in first
    assert later.startswith("Your refill for order(s) 45323, 45324 was not possible:")
    assert "private account" in later  # the provider's reason, without its name, handle, domain or ids
    receive(Incoming(connection=wired.wa, chat_id=WA_GROUP, private=False, sender_id="447700900999@c.us",
                     sender_name="Prov", text="cannot refill", message_id="prov2", reply_to=message.remote_id))  # fmt: skip
    run_jobs()
    assert len(answers(fake_waha)) == 2  # told once per kind
