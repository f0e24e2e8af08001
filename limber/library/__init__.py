"""The exercise library as the web app sees it: the specs, loaded once."""

from functools import cache

from limber.core.spec import Library, load_library


@cache
def get_library() -> Library:
    from django.conf import settings

    return load_library(settings.EXERCISES_DIR)
