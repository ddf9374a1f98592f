from django.urls import include, path

urlpatterns = [
    path("", include("panelrelay.accounts.urls")),
    path("", include("panelrelay.forwarding.urls")),
    path("", include("panelrelay.panels.urls")),
    path("", include("panelrelay.transports.urls")),
    path("", include("panelrelay.routing.urls")),
    path("", include("panelrelay.api.urls")),
    path("", include("panelrelay.intake.urls")),
    path("", include("panelrelay.customers.urls")),
    path("master/", include("panelrelay.master.urls")),
    path("master/vault/", include("panelrelay.vault.urls")),
]

# JSON for every path under /api/, pages elsewhere (core/errors.py).
handler400 = "panelrelay.core.errors.bad_request"
handler404 = "panelrelay.core.errors.page_not_found"
handler500 = "panelrelay.core.errors.server_error"
