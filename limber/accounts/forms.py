import unicodedata

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from limber.accounts.mail import send_later
from limber.core.text import visible


def _password_input(autocomplete: str) -> forms.PasswordInput:
    """Says which password it is, so that browsers and password managers fill or make one."""
    return forms.PasswordInput(attrs={"autocomplete": autocomplete})


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"), max_length=200, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"), widget=_password_input("new-password"), strip=False
    )
    password2 = forms.CharField(
        label=_("Password again"), widget=_password_input("new-password"), strip=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The rules the password is checked against, shown before it is typed (as when changing
        # it), and read with the input (its aria-describedby names them).
        self.fields["password"].help_text = password_validation.password_validators_help_text_html()

    # No "this address already has an account" here: that would tell anyone who has an account.
    # The view answers the same either way and says the rest by mail, to the address's owner.
    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            user = get_user_model()(username=data.get("email", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(p1, user)
            except forms.ValidationError as e:
                self.add_error("password", e)
        return data


class LoginForm(forms.Form):
    # The e-mail is the account's user name: "username" is what password managers look for.
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=200,
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), widget=_password_input("current-password"), strip=False
    )


class ConfirmForm(forms.Form):
    """The sign-up link asks for the password the sign-up was made with: the account is only
    put to use by someone who reads the address's mail *and* chose its password (a stranger's
    sign-up of the address, made later, cannot be confirmed by its owner's click)."""

    password = forms.CharField(
        label=_("The password you chose when signing up"),
        widget=_password_input("current-password"),
        strip=False,
    )


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password, to confirm"),
        widget=_password_input("current-password"),
        strip=False,
    )


def _printable(value: str) -> None:
    # Tabs, line breaks and other control characters have no place in a name shown on a page,
    # a handout or a FHIR export (Django already refuses NUL).
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise forms.ValidationError(_("Use letters, spaces and punctuation only."))


class NameForm(forms.Form):
    """The name others see instead of the e-mail address: a clinician sees their patients' names,
    a patient their clinician's. Two parts, as health records keep them (FHIR's given and
    family names); both may be left empty. Django's own 150-character limit."""

    first_name = forms.CharField(
        label=_("Given name"), max_length=150, required=False, validators=[_printable],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )  # fmt: skip
    last_name = forms.CharField(
        label=_("Family name"), max_length=150, required=False, validators=[_printable],
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )  # fmt: skip

    # A name of invisible characters only is no name: the e-mail is shown instead.
    def clean_first_name(self) -> str:
        return visible(self.cleaned_data["first_name"])

    def clean_last_name(self) -> str:
        return visible(self.cleaned_data["last_name"])


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name (to recognise it by, e.g. “phone”)"), max_length=100, required=False
    )


class BackgroundPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the mail sent after the answer (see limber.accounts.mail)."""

    def send_mail(self, *args, **kwargs) -> None:
        send = super().send_mail
        send_later(lambda: send(*args, **kwargs))
