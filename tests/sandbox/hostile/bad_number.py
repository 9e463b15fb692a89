"""Returns an int whose conversion to a plain int fails."""


class Slippery(int):
    def __int__(self):
        raise ValueError("not today")

    __index__ = __int__


def run():
    return Slippery(3)
