from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from panelrelay.accounts import team, views

app_name = "accounts"

reset = {"success_url": reverse_lazy("accounts:password_reset_done")}

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.signin, name="login"),
    path("accounts/login/link/<str:token>/", views.signin_by_link, name="signin_link"),
    path("accounts/logout/", views.signout, name="logout"),
    path("accounts/no-workspace/", views.no_workspace, name="no_workspace"),
    path("accounts/switch/", views.switch_workspace, name="switch"),
    path("accounts/workspaces/new/", views.new_workspace, name="new_workspace"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url=reverse_lazy("accounts:password_changed")
        ),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_changed.html"),
        name="password_changed",
    ),
    path(
        "accounts/reset/",
        views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            **reset,
        ),
        name="password_reset",
    ),
    path(
        "accounts/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html", success_url=reverse_lazy("accounts:login")
        ),
        name="password_reset_confirm",
    ),
    path("invite/<slug:token>/", team.accept_invite, name="invite"),  # token_urlsafe(): a slug
    path("team/", team.team, name="team"),
    path("team/invite/", team.create_invite, name="create_invite"),
    path("team/invite/<uuid:code>/revoke/", team.revoke_invite, name="revoke_invite"),
    path("team/<uuid:code>/toggle/<str:perm>/", team.toggle, name="toggle"),
    path("team/<uuid:code>/remove/", team.remove_member, name="remove_member"),
    path("settings/", views.settings_page, name="settings"),
]
