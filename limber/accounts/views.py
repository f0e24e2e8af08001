from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from limber.accounts.forms import DeleteAccountForm, LoginForm, SignupForm
from limber.accounts.models import Profile

# Login rate limiting: this many failures per address and per e-mail within the window.
LOGIN_FAILURES_ALLOWED = 10
LOGIN_WINDOW_S = 15 * 60


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _throttled(keys: list[str]) -> bool:
    return any(cache.get(k, 0) >= LOGIN_FAILURES_ALLOWED for k in keys)


def _count_failure(keys: list[str]) -> None:
    for k in keys:
        cache.add(k, 0, LOGIN_WINDOW_S)
        try:
            cache.incr(k)
        except ValueError:  # expired between add and incr
            cache.set(k, 1, LOGIN_WINDOW_S)


def _next_url(request, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return default


@require_http_methods(["GET", "POST"])
def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=email, email=email, password=form.cleaned_data["password"]
            )
            Profile.objects.create(user=user, role=Profile.PATIENT)
        auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponseRedirect(reverse("screening"))
    return render(
        request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def login(request):
    form = LoginForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        keys = [f"login-fail:ip:{_client_ip(request)}", f"login-fail:email:{email}"]
        if _throttled(keys):
            error = _("Too many attempts. Please wait 15 minutes and try again.")
            status = 429
        else:
            user = auth.authenticate(
                request, username=email, password=form.cleaned_data["password"]
            )
            if user is not None:
                auth.login(request, user)
                return HttpResponseRedirect(_next_url(request, reverse("practice")))
            _count_failure(keys)
            error = _("That e-mail and password do not match an account.")
            status = 400
    ctx = {"form": form, "error": error, "next": _next_url(request, "")}
    return render(request, "accounts/login.html", ctx, status=status)


@require_POST
def logout(request):
    auth.logout(request)
    return HttpResponseRedirect(reverse("login"))


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if request.user.check_password(form.cleaned_data["password"]):
            user = request.user
            auth.logout(request)
            user.delete()  # cascades to the profile, tokens, screenings, sessions and holds
            return render(request, "accounts/deleted.html")
        form.add_error("password", _("That is not your password."))
    return render(
        request, "accounts/delete.html", {"form": form}, status=400 if form.errors else 200
    )
