from django.urls import path

from panelrelay.api import tokens, views

app_name = "api"
urlpatterns = [
    path("api/v1/openapi.json", views.openapi, name="openapi"),
    path("api/v1/requests", views.create, name="create"),
    path("api/v1/requests/<uuid:code>", views.detail, name="request"),
    path("api/v1/route-check", views.route_check, name="route_check"),
    path("api/v1/panels", views.panels, name="panels"),
    path("api/v1/commands", views.commands, name="commands"),
    path("settings/api-tokens/", tokens.tokens, name="tokens"),
    path("settings/api-tokens/<uuid:code>/revoke/", tokens.revoke, name="revoke"),
]
