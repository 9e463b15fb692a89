"""Raises an exception that raises again when asked for its message."""


class UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def run():
    raise UnprintableError
