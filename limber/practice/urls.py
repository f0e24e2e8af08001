from django.urls import path

from limber.practice import views

urlpatterns = [
    path("screening/", views.screening, name="screening"),
    path("practice/", views.practice, name="practice"),
    path("history/", views.history, name="history"),
    path("history/export.<str:fmt>", views.export, name="export"),
]
