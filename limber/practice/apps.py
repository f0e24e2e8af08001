from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "limber.practice"
    label = "practice"
