"""A Jupyter kernel that runs inside the submission's sandbox.

The kernel talks to the grader over ZeroMQ's IPC transport: its sockets and its connection
file live in one folder that bubblewrap binds into the sandbox at the same path, so both sides
agree on every address while the sandbox keeps no network at all. Under ``--unshare-pid`` the
kernel must not be the direct child of the sandbox's pid 1 (ipykernel would take its parent
for dead), so a small shell starts it and waits. Interrupts travel as messages on the control
channel: a signal sent to bubblewrap would not reach the kernel.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

from gradekit.sandbox.launcher import plan_command
from gradekit.sandbox.limits import Limits

KERNEL_SPEC = KernelSpec(
    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    display_name="Python 3 (gradekit sandbox)",
    language="python",
    interrupt_mode="message",
)
# Keeps the kernel one process below the sandbox's pid 1 (``sh -c cmd`` would exec cmd).
UNDER_A_SHELL = ["/bin/sh", "-c", '"$@"; exit $?', "sh"]


class SandboxedKernelManager(AsyncKernelManager):
    """Starts ipykernel through :func:`gradekit.sandbox.launcher.plan_command`.

    ``workdir`` is the private copy of the submission, ``ipc_dir`` the shared socket folder
    (owned by the student uid), ``folder`` where the notebook sits in the workdir.
    """

    def __init__(self, *, mode: str, workdir: Path, ipc_dir: Path, folder: str, limits: Limits,
                 hidden: Sequence[Path], uid: int | None, readable: Sequence[Path] = (),
                 env: dict[str, str] | None = None, log_file: Path, **kwargs: Any) -> None:
        super().__init__(transport="ipc", ip=str(ipc_dir / "kernel"),
                         connection_file=str(ipc_dir / "kernel.json"), **kwargs)
        self.mode, self.workdir, self.uid = mode, workdir, uid
        self.sandbox = dict(limits=limits, hidden=hidden, uid=uid, folder=folder,
                            shared=(ipc_dir,), readable=readable, env=env or {})
        self.log_file = log_file

    @property
    def kernel_spec(self) -> KernelSpec:
        """Always our own kernel: a notebook's ``kernelspec`` never picks what runs."""
        return KERNEL_SPEC

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        if self.uid is not None:  # the kernel drops to the student uid before reading it
            os.chown(self.connection_file, self.uid, self.uid)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        launch = plan_command(self.mode, [*UNDER_A_SHELL, *kernel_cmd], self.workdir,
                              **self.sandbox)
        kw.pop("env", None)  # jupyter's environment is the grader's: never hand it over
        kw.update(launch.popen_kwargs(), cwd=launch.cwd)
        with open(self.log_file, "ab") as log:
            kw.update(stdout=log, stderr=log)
            await super()._async_launch_kernel(launch.argv, **kw)
