from django.urls import path

from panelrelay.customers import views

app_name = "customers"
urlpatterns = [
    path("customers/", views.customers, name="customers"),
    path("customers/add/", views.add, name="add"),
    path("customers/<uuid:code>/", views.customer, name="customer"),
    path("customers/<uuid:code>/link/", views.link, name="link"),
    path("customers/<uuid:code>/block/", views.block, name="block"),
    path("customers/<uuid:code>/pause/", views.pause, name="pause"),
    path("customers/<uuid:code>/language/", views.language, name="language"),
    path("customers/links/<uuid:code>/unlink/", views.unlink, name="unlink"),
    path("settings/customers/", views.settings_page, name="settings"),
]
