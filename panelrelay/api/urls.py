from django.urls import path

from panelrelay.api import tokens
from panelrelay.api.errors import json_not_allowed
from panelrelay.api.v1 import api

app_name = "api"
operations, _, v1 = api.urls  # v1's operations, /api/v1/openapi.json, and names under "api:v1:"
urlpatterns = [
    path("api/v1/", (json_not_allowed(operations), "v1", v1)),
    path("settings/api-tokens/", tokens.tokens, name="tokens"),
    path("settings/api-tokens/<uuid:code>/revoke/", tokens.revoke, name="revoke"),
]
