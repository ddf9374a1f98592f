from django.urls import path

from panelrelay.intake import views

app_name = "intake"
urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/telegram/link/", views.new_link, name="new_link"),
    path("profile/telegram/unlink/", views.unlink, name="unlink"),
    path("profile/telegram/panel/", views.choose_panel, name="bot_panel"),
    path("settings/tickets/", views.ticket_settings, name="tickets"),
]
