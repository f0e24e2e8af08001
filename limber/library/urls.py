from django.urls import path

from limber.library import views

urlpatterns = [
    path("", views.index, name="library-index"),
    path("<slug:slug>/", views.detail, name="library-detail"),
    path("<slug:slug>/<slug:variant>/<str:side>-<str:pose>.svg", views.drawing, name="library-svg"),
]
