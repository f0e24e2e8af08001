from django.urls import include, path
from django.views.generic import RedirectView

from limber.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="library-index", permanent=False)),
    path("exercises/", include("limber.library.urls")),
    path("accounts/", include("limber.accounts.urls")),
    path("", include("limber.practice.urls")),
    path("", include("limber.clinic.urls")),
    path("api/v1/", api.urls),
]
