"""Errors the command reports as a clear message instead of a traceback."""


class StackError(RuntimeError):
    """Something in the local stack failed; the message says what and where to look."""
