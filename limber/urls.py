from django.urls import include, path

from limber.api import api
from limber.library import views as library_views

urlpatterns = [
    path("", library_views.home, name="home"),
    path("exercises/", include("limber.library.urls")),
    path("accounts/", include("limber.accounts.urls")),
    path("", include("limber.practice.urls")),
    path("", include("limber.clinic.urls")),
    path("api/v1/", api.urls),
]
