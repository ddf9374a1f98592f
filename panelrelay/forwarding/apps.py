from django.apps import AppConfig


class ForwardingConfig(AppConfig):
    name = "panelrelay.forwarding"
    label = "forwarding"
    verbose_name = "Forwarding: requests, messages, delivery"

    def ready(self) -> None:
        # Imported here, not at the top: models load only once the app registry is ready.
        from panelrelay.forwarding import answers, scorecard
        from panelrelay.panels import scorecard as provider_glances
        from panelrelay.transports import incoming

        # After the team bot (10) and start links (50): a provider's chat is never a private staff chat.
        incoming.subscribe("forwarding.provider_answers", answers.receiver, priority=60)
        # The Providers page's column (answered share, median time to answer) comes from the orders.
        if scorecard.glances not in provider_glances.SOURCES:
            provider_glances.SOURCES.append(scorecard.glances)
