from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "limber.library"
    label = "library"

    def ready(self) -> None:
        # Read and validate every spec file at start-up, so a malformed file stops the app
        # with its one-line message instead of failing on the first page view.
        from limber.library import get_library

        get_library()
