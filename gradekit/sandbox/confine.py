"""The last trusted step before untrusted code: set the kernel limits, drop to the student uid.

The worker calls :func:`confine` on itself before importing the submission. Any other program
(a notebook kernel, say) runs as ``python -I -m gradekit.sandbox.confine CONFIG_JSON
COMMAND...``, which confines itself the same way and then ``exec``s the command.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence


def confine(rlimits: Sequence[Sequence[int]], uid: int | None) -> None:
    """Apply ``(resource, soft, hard)`` limits, then become ``uid`` for good (if given).

    Limits first: lowering them needs no privilege, and the process limit is then already in
    place when ``uid`` starts to count processes.
    """
    import resource  # POSIX only; the in-process mode never confines

    for which, soft, hard in rlimits:
        resource.setrlimit(which, (soft, hard))
    if uid is not None:  # started as root inside bubblewrap: real, saved and effective ids
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def main() -> None:
    config = json.loads(sys.argv[1])
    confine(config["rlimits"], config["uid"])
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()
