"""Lists every path it can see, except below the folders it is told are the runtime."""

import os


def run(pruned):
    seen = []
    for top, folders, files in os.walk("/", followlinks=False):
        if top in ("/proc", "/sys") or top.startswith(("/proc/", "/sys/")):
            folders[:] = []
            continue
        kept = []
        for name in folders:
            path = os.path.join(top, name)
            seen.append(path)
            if path not in pruned:
                kept.append(name)
        folders[:] = kept
        seen += [os.path.join(top, name) for name in files]
    return seen
