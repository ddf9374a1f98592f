from django.urls import path

from panelrelay.transports import hooks, settings_views, views
from panelrelay.transports.integrations.telegram import webhook

app_name = "transports"
urlpatterns = [
    path("destinations/", views.destinations, name="destinations"),
    path("destinations/add/", views.add_destination, name="add_destination"),
    path("destinations/chats/", views.chats, name="chats"),
    path("destinations/<uuid:code>/", views.edit_destination, name="edit_destination"),
    path("destinations/<uuid:code>/toggle/", views.toggle_destination, name="toggle_destination"),
    path("destinations/<uuid:code>/test/", views.test_destination, name="test_destination"),
    path("destinations/<uuid:code>/delete/", views.delete_destination, name="delete_destination"),
    path("settings/connections/", settings_views.connections, name="connections"),
    path("settings/connections/telegram-user/", settings_views.telegram_user_login, name="telegram_user_login"),
    path("settings/connections/add/<str:kind>/", settings_views.add_connection, name="add_connection"),
    path("settings/connections/<uuid:code>/", settings_views.edit_connection, name="edit_connection"),
    path("settings/connections/<uuid:code>/check/", settings_views.check_connection, name="check_connection"),
    path("settings/connections/<uuid:code>/delete/", settings_views.delete_connection, name="delete_connection"),
    path("settings/connections/<uuid:code>/qr/", settings_views.qr_code, name="qr_code"),
    path("settings/connections/<uuid:code>/start-link/", settings_views.start_link, name="start_link"),
    path("settings/connections/<uuid:code>/updates/", settings_views.updates_mode, name="updates_mode"),
    path("settings/connections/<uuid:code>/receive/", settings_views.receive_mode, name="receive_mode"),
    path("hooks/telegram/<uuid:code>/", webhook.receive, name="telegram_webhook"),
    path("hooks/whatsapp/<uuid:code>/<str:token>/", hooks.receive_webhook, name="gateway_webhook"),
    path("settings/alerts/", settings_views.alerts, name="alerts"),
    path("settings/alerts/test/", settings_views.test_alert, name="test_alert"),
]
