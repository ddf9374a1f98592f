from django.urls import path

from panelrelay.routing import views

app_name = "routing"
urlpatterns = [
    path("routing/", views.routing, name="routing"),
    path("routing/check/", views.check, name="check"),
    path("routing/providers/<uuid:code>/destination/", views.set_provider_destination, name="provider_destination"),
    path("routing/providers/<uuid:code>/backup/", views.set_provider_backup, name="provider_backup"),
    path("routing/providers/<uuid:code>/toggle/", views.toggle_provider_route, name="provider_toggle"),
    path("routing/defaults/<str:which>/", views.set_default, name="default"),
    path("routing/overrides/", views.add_override, name="add_override"),
    path("routing/overrides/<uuid:code>/destination/", views.set_override_destination, name="override_destination"),
    path("routing/overrides/<uuid:code>/toggle/", views.toggle_override, name="override_toggle"),
    path("routing/overrides/<uuid:code>/delete/", views.delete_override, name="delete_override"),
]
