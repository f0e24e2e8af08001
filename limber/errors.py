"""Errors meant for a person: one line, no traceback."""


class UserError(Exception):
    """Something the user asked for cannot be done; the message says what and how to fix it.

    The CLI prints it as `limber: error: <message>` and exits with status 2.
    """
