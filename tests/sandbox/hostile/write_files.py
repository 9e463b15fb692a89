"""Tries to write files outside its own folder."""


def run(paths):
    written = []
    for path in paths:
        try:
            with open(path, "w") as handle:
                handle.write("owned")
            written.append(path)
        except OSError:
            continue
    return written
