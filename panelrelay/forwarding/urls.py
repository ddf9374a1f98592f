from django.urls import path

from panelrelay.forwarding import activity_views, scorecard_views, settings_views, views, waiting_views

app_name = "forwarding"
urlpatterns = [
    path("", views.home, name="home"),
    path("forward/", views.forward, name="forward"),
    path("activity/", activity_views.activity_page, name="activity"),
    path("activity/export.csv", activity_views.export_csv, name="export"),
    path("activity/exports/<uuid:code>/", activity_views.export_status, name="export_status"),
    path("activity/exports/<uuid:code>/download/", activity_views.export_download, name="export_download"),
    path("requests/<uuid:code>/", views.request_detail, name="request"),
    path("requests/<uuid:code>/again/", views.re_request, name="re_request"),
    path("requests/<uuid:code>/send-waiting/", waiting_views.send_request_waiting, name="send_request_waiting"),
    path("routing/waiting/", waiting_views.waiting_box, name="waiting"),
    path("routing/waiting/send/", waiting_views.send_waiting, name="send_waiting"),
    path("providers/<uuid:code>/scorecard/", scorecard_views.provider_scorecard, name="scorecard"),
    path("settings/forwarding/", settings_views.forwarding_settings, name="settings"),
    path("settings/forwarding/commands/", settings_views.add_command, name="add_command"),
    path("settings/forwarding/commands/<uuid:code>/", settings_views.update_command, name="update_command"),
    path("settings/forwarding/commands/<uuid:code>/toggle/", settings_views.toggle_command, name="toggle_command"),
    path("settings/forwarding/commands/<uuid:code>/delete/", settings_views.delete_command, name="delete_command"),
    path("settings/forwarding/templates/", settings_views.save_template, name="save_template"),
    path("settings/forwarding/templates/<uuid:code>/delete/", settings_views.delete_template, name="delete_template"),
]
