from django.urls import path

from panelrelay.vault import views

app_name = "vault"
urlpatterns = [
    path("", views.records, name="records"),
    path("export.<str:fmt>", views.export, name="export"),
    path("<uuid:code>/restore/", views.restore, name="restore"),
]
