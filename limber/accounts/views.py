from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from limber.accounts import throttle
from limber.accounts.device import storage_key
from limber.accounts.forms import (
    BackgroundPasswordResetForm,
    ConfirmForm,
    DeleteAccountForm,
    LoginForm,
    NameForm,
    SignupForm,
    TokenForm,
)
from limber.accounts.mail import send_later
from limber.accounts.models import (
    ApiToken,
    Profile,
    awaiting_confirmation,
    role_of,
    sign_up,
)
from limber.security import client_ip


def _next_url(request, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return default


TOO_MANY_SIGNUPS = gettext_lazy("Too many sign-ups from here. Please try again later.")


def too_many(request, message: str):
    """The page for a request a throttle refused (the clinic's invite sign-up uses it too)."""
    return render(request, "accounts/too_many.html", {"message": message}, status=429)


# --- sign-up -------------------------------------------------------------------------------------


def _mail_signup(request, user, new: bool) -> None:
    """A confirmation link for a new address; for a taken one, a note to its owner."""
    context = {
        "user": user,
        "site": request.build_absolute_uri("/").rstrip("/"),
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    template = "accounts/signup_email.txt" if new else "accounts/signup_taken_email.txt"
    body = render_to_string(template, context, request=request)
    subject = _("Confirm your Limber account") if new else _("Someone tried to sign up as you")
    send_later(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))


@require_http_methods(["GET", "POST"])
def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        if not throttle.SIGNUP_PER_ADDRESS.spend(ip):
            return too_many(request, TOO_MANY_SIGNUPS)
        email = form.cleaned_data["email"]
        user, new = sign_up(email, form.cleaned_data["password"], confirmed=False)
        _mail_signup(request, user, new)
        # The same answer whether or not the address had an account: the mail says the rest.
        request.session["signup_email"] = email
        return HttpResponseRedirect(reverse("signup-sent"))
    return render(
        request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200
    )


def signup_sent(request):
    email = request.session.get("signup_email", "")
    return render(request, "accounts/signup_sent.html", {"email": email})


@require_http_methods(["GET", "POST"])
def signup_confirm(request, uidb64: str, token: str):
    """The mailed link: the password the sign-up was made with, and the account is in use.

    Signing up again before the link is opened sets a new password (the person may have
    forgotten theirs) and makes the earlier links stop working. A link alone used to log its
    opener in, so a stranger who signed the address up again just before the owner opened the
    newest link shared the account from then on, knowing its password. Now the link needs the
    password too, which the stranger's sign-up did not give the owner.
    """
    view = auth_views.PasswordResetConfirmView()  # only for its user lookup from the link
    user = view.get_user(uidb64)
    # An account an administrator closed stays closed, link or not.
    if (
        user is None
        or not default_token_generator.check_token(user, token)
        or not awaiting_confirmation(user)
    ):
        return render(request, "accounts/signup_invalid.html", status=400)
    form = ConfirmForm(request.POST or None)
    ctx = {"form": form, "email": user.email, "error": "", "throttled": False}
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        # The login limits: the link is no licence to guess the password.
        if throttle.LOGIN_PER_ACCOUNT_AND_ADDRESS.reached(user.email, ip) or (
            throttle.LOGIN_PER_ADDRESS.reached(ip)
        ):
            ctx["error"] = _("Too many attempts from here. Please wait 15 minutes and try again.")
            ctx["throttled"] = True
            return render(request, "accounts/signup_confirm.html", ctx, status=429)
        if user.check_password(form.cleaned_data["password"]):
            user.is_active = True
            user.save(update_fields=["is_active"])
            Profile.objects.filter(user=user).update(confirmed=True)
            auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(reverse("screening"))
        throttle.LOGIN_PER_ACCOUNT_AND_ADDRESS.count(user.email, ip)
        throttle.LOGIN_PER_ADDRESS.count(ip)
        ctx["error"] = _(
            "That is not the password of the latest sign-up with this address. If you signed "
            "up more than once, use the password you chose last. If you did not, someone else "
            "may have used your address: sign up again and choose your own password (this link "
            "then stops working)."
        )
    status = 400 if form.errors or ctx["error"] else 200
    return render(request, "accounts/signup_confirm.html", ctx, status=status)


# --- logging in and out --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login(request):
    form = LoginForm(request.POST or None)
    error = ""
    throttled = False
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        ip = client_ip(request)
        # Counted per account *and* address, and per address: failing on purpose from one
        # address cannot lock the owner out from theirs.
        if throttle.LOGIN_PER_ACCOUNT_AND_ADDRESS.reached(email, ip) or (
            throttle.LOGIN_PER_ADDRESS.reached(ip)
        ):
            error = _("Too many attempts from here. Please wait 15 minutes and try again.")
            throttled = True
            status = 429
        else:
            user = auth.authenticate(
                request, username=email, password=form.cleaned_data["password"]
            )
            if user is not None:
                throttle.LOGIN_PER_ACCOUNT_AND_ADDRESS.clear(email, ip)
                auth.login(request, user)
                # A clinician's day starts with their patients, not with a practice session.
                home = "clinic-home" if role_of(user) == Profile.CLINICIAN else "practice"
                return HttpResponseRedirect(_next_url(request, reverse(home)))
            throttle.LOGIN_PER_ACCOUNT_AND_ADDRESS.count(email, ip)
            throttle.LOGIN_PER_ADDRESS.count(ip)
            error = _("That e-mail and password do not match an account.")
            # Said at the password too, where a screen reader's user is when they try again
            # (the input then names it: aria-invalid, aria-describedby).
            form.add_error("password", error)
            status = 400
    ctx = {"form": form, "error": error, "throttled": throttled, "next": _next_url(request, "")}
    return render(request, "accounts/login.html", ctx, status=status)


@require_POST
def logout(request):
    auth.logout(request)
    return HttpResponseRedirect(reverse("login"))


# --- password reset ------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = BackgroundPasswordResetForm

    def form_valid(self, form):
        ip = client_ip(self.request)
        email = form.cleaned_data["email"].strip().lower()
        if not throttle.RESET_PER_ADDRESS.spend(ip):
            return too_many(self.request, _("Too many reset requests. Please try again later."))
        if not throttle.RESET_PER_ACCOUNT.spend(email):
            # Same answer as a sent mail: saying "limit reached" would say the address is known.
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form):
        # The owner proved they read the mailbox: let them log in from here at once.
        throttle.LOGIN_PER_ACCOUNT_AND_ADDRESS.clear(self.user.username, client_ip(self.request))
        return super().form_valid(form)


# --- the account page: tokens, password, deleting ------------------------------------------------


@login_required
def account(request, name_form: NameForm | None = None, status: int = 200):
    tokens = ApiToken.objects.filter(user=request.user)
    user = request.user
    ctx = {
        "tokens": tokens,
        "form": TokenForm(),
        "name_form": name_form
        or NameForm(initial={"first_name": user.first_name, "last_name": user.last_name}),
        "is_clinician": role_of(user) == Profile.CLINICIAN,
        "new_key": request.session.pop("new_token", None),
        "token_days": settings.TOKEN_DAYS,
    }
    return render(request, "accounts/account.html", ctx, status=status)


@require_POST
@login_required
def name(request):
    form = NameForm(request.POST)
    if not form.is_valid():
        return account(request, name_form=form, status=400)
    user = request.user
    user.first_name = form.cleaned_data["first_name"]
    user.last_name = form.cleaned_data["last_name"]
    user.save(update_fields=["first_name", "last_name"])
    messages.success(request, _("Your name is saved."))
    return HttpResponseRedirect(reverse("account"))


@require_POST
@login_required
def token_create(request):
    form = TokenForm(request.POST)
    if not form.is_valid():  # said on the page, not dropped without a word
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, _("No token was made: %(why)s") % {"why": problems})
        return HttpResponseRedirect(reverse("account"))
    key = ApiToken.objects.issue(request.user, name=form.cleaned_data["name"])[1]
    # Shown once, on the next page; only its digest is stored.
    request.session["new_token"] = key
    return HttpResponseRedirect(reverse("account"))


@require_POST
@login_required
def token_revoke(request, pk: int):
    if ApiToken.objects.revoke(request.user, pk=pk):
        messages.success(request, _("The token is revoked: it no longer works."))
    return HttpResponseRedirect(reverse("account"))


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"

    def get_success_url(self) -> str:
        messages.success(self.request, _("Your password is changed and your API tokens revoked."))
        return reverse("account")


# What else deleting an account ends, in words, from the apps that know (the clinic registers
# one for clinicians' patients): accounts imports no other app.
DELETE_WARNINGS: list = []


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if request.user.check_password(form.cleaned_data["password"]):
            user = request.user
            forget = storage_key(user)  # the page has this browser forget the account's records
            auth.logout(request)
            user.delete()  # cascades to the profile, tokens, screenings, sessions and holds
            return render(request, "accounts/deleted.html", {"forget_device_storage": forget})
        form.add_error("password", _("That is not your password."))
    warnings = [w for warn in DELETE_WARNINGS for w in warn(request.user)]
    return render(
        request,
        "accounts/delete.html",
        {"form": form, "warnings": warnings},
        status=400 if form.errors else 200,
    )
