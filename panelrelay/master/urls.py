from django.urls import path

from panelrelay.master import views

app_name = "master"
urlpatterns = [
    path("", views.workspaces, name="workspaces"),
    path("workspaces/<uuid:code>/suspended/", views.toggle_suspended, name="toggle_suspended"),
    path("health/", views.health, name="health"),
]
