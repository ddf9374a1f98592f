from django.urls import path

from panelrelay.panels import provider_views, views

app_name = "panels"
urlpatterns = [
    path("panels/", views.panels, name="panels"),
    path("panels/add/", views.add_panel, name="add"),
    path("panels/<uuid:code>/edit/", views.edit_panel, name="edit"),
    path("panels/<uuid:code>/delete/", views.delete_panel, name="delete"),
    path("panels/<uuid:code>/enabled/", views.toggle_enabled, name="toggle"),
    path("panels/<uuid:code>/tickets/", views.toggle_tickets, name="toggle_tickets"),
    path("panels/<uuid:code>/test/", views.test_panel, name="test"),
    path("panels/<uuid:code>/sync/", views.sync_panel, name="sync"),
    path("providers/", provider_views.providers, name="providers"),
    path("providers/add/", provider_views.add_provider, name="add_provider"),
    path("providers/sync/", provider_views.sync_all, name="sync_all"),
    path("providers/find/", provider_views.find, name="find"),
    path("providers/<uuid:code>/", provider_views.provider, name="provider"),
    path("providers/<uuid:code>/alias/", provider_views.alias, name="alias"),
    path("providers/<uuid:code>/enabled/", provider_views.toggle_provider, name="toggle_provider"),
    path("providers/<uuid:code>/follow-up/", provider_views.follow_up, name="follow_up"),
]
