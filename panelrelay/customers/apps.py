"""The customers app: the panel's customers ask on WhatsApp or Telegram, and get answered.

A connection marked customer support hands its private chats (and the owner's customer groups)
to `chats.receiver` through the incoming front door (transports.incoming); a linked customer's
"refill 123 456" becomes a request for their panel username only (the engine's not-yours check),
answered from the owner's templates once decided (jobs.py) and again when the provider's outcome
is known (forwarding.after). Intake's ticket poller hands ticket texts to `linking.on_ticket`
(the one-time link code), so intake imports nothing of this app.
"""

from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "panelrelay.customers"
    label = "customers"
    verbose_name = "Customers: requests from customers' WhatsApp and Telegram chats"

    def ready(self) -> None:
        # Imported here, not at the top: models load only once the app registry is ready.
        from panelrelay.customers import answers, chats, jobs, linking  # noqa: F401 (jobs registers handlers)
        from panelrelay.forwarding import after
        from panelrelay.intake import tickets
        from panelrelay.transports import incoming

        # Before the team bot (10): a customer-support bot's private chats are customers', except
        # a linked staff member's and a /start token's, which chats.receiver passes on.
        incoming.subscribe("customers.chats", chats.receiver, priority=5)
        if chats.customer_groups not in incoming.CHAT_SOURCES:
            incoming.CHAT_SOURCES.append(chats.customer_groups)
        if chats.new_private_chats not in incoming.CHAT_SOURCES:
            incoming.CHAT_SOURCES.append(chats.new_private_chats)
        if answers.on_outcome not in after.OUTCOME_RECEIVERS:
            after.OUTCOME_RECEIVERS.append(answers.on_outcome)
        if linking.on_ticket not in tickets.TICKET_READERS:
            tickets.TICKET_READERS.append(linking.on_ticket)
