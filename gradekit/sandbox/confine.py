"""The last trusted step before untrusted code, run inside the sandbox.

It copies the submission into the sandbox's sized ``/tmp`` (under bubblewrap), makes the
folders the program needs, tells the grader the sandbox is up, sets the kernel limits and
drops to the submission's uid for good. The worker calls :func:`prepare` on itself before
importing the submission; any other program (a notebook kernel, say) runs as
``python -I -m gradekit.sandbox.confine CONFIG_JSON COMMAND...``, which prepares itself the
same way and then ``exec``s the command.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any


def prepare(config: dict[str, Any]) -> None:
    """Do the steps of ``config`` (built by :func:`gradekit.sandbox.launcher.steps`)."""
    uid = config["uid"]
    if config["populate"] is not None:
        source, target = config["populate"]
        shutil.copytree(source, target, symlinks=True)
        if uid is not None:
            _hand_over(target, uid)
    for folder in config["dirs"]:
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o1777)  # like /tmp: anyone may add, nobody may replace it
    if config["ready_fd"] is not None:
        os.write(config["ready_fd"], b"1")
        os.close(config["ready_fd"])
    confine(config["rlimits"], uid)
    os.chdir(config["chdir"])


def _hand_over(folder: str, uid: int) -> None:
    """Give the copied submission to the student uid, the only writer of its work dir."""
    os.lchown(folder, uid, uid)
    for parent, folders, files in os.walk(folder):
        for name in (*folders, *files):
            os.lchown(os.path.join(parent, name), uid, uid)


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
    prepare(json.loads(sys.argv[1]))
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()
