from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.models import User

from panelrelay.accounts.models import PERMISSIONS


class SignInForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class AccountForm(forms.Form):
    """Email and password for a new user (sign-up and accepting an invite)."""

    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, not a common password.",
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(username=email).exists():
            raise forms.ValidationError("An account with this email exists already. Sign in instead.")
        return email

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("password") and data.get("email"):
            user = User(username=data["email"], email=data["email"])
            try:
                password_validation.validate_password(data["password"], user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class SignUpForm(AccountForm):
    workspace = forms.CharField(
        max_length=100, label="Workspace name", help_text="Your business or panel brand; you can change it later."
    )
    field_order = ["workspace", "email", "password"]


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100, label="Workspace name")


class InviteForm(forms.Form):
    email = forms.EmailField(required=False, help_text="Optional: we email the link. You can also copy it.")
    can_forward = forms.BooleanField(required=False, initial=True, label=PERMISSIONS["forward"])
    can_routing = forms.BooleanField(required=False, label=PERMISSIONS["routing"])
    can_panels = forms.BooleanField(required=False, label=PERMISSIONS["panels"])
    can_activity = forms.BooleanField(required=False, label=PERMISSIONS["activity"])
