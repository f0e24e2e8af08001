from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="library-index", permanent=False)),
    path("exercises/", include("limber.library.urls")),
]
