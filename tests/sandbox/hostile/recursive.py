"""Returns a list that contains itself."""


def run():
    loop = []
    loop.append(loop)
    return loop
