"""Collects every environment it can see: its own and those under /proc."""

import os


def run():
    seen = [repr(dict(os.environ))]
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                seen.append(handle.read().decode(errors="replace"))
        except OSError:
            continue
    return "\n".join(seen)
