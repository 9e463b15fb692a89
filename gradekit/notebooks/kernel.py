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

from gradekit.sandbox.launcher import Launch, plan_command
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
    (owned by the student uid), ``cwd`` where the notebook sits inside the sandbox.
    """

    def __init__(self, *, mode: str, workdir: Path, ipc_dir: Path, cwd: str, limits: Limits,
                 hidden: Sequence[Path], uid: int | None, readable: Sequence[Path] = (),
                 env: dict[str, str] | None = None, log_file: Path, **kwargs: Any) -> None:
        super().__init__(transport="ipc", ip=str(ipc_dir / "kernel"),
                         connection_file=str(ipc_dir / "kernel.json"), **kwargs)
        self.sandbox = dict(mode=mode, workdir=workdir, limits=limits, hidden=hidden, uid=uid,
                            shared=(ipc_dir,), readable=readable, env=env or {})
        self.inside_cwd = cwd
        self.log_file = log_file
        self.ipc_dir = ipc_dir

    @property
    def kernel_spec(self) -> KernelSpec:
        """Always our own kernel: a notebook's ``kernelspec`` never picks what runs."""
        return KERNEL_SPEC

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        uid = self.sandbox["uid"]
        if uid is not None:  # the kernel drops to the student uid before reading it
            os.chown(self.connection_file, uid, uid)

    def launch(self, kernel_cmd: list[str]) -> Launch:
        """How the kernel command is started inside the sandbox."""
        settings = dict(self.sandbox)
        launch = plan_command(settings.pop("mode"), [*UNDER_A_SHELL, *kernel_cmd],
                              settings.pop("workdir"), **settings)
        if launch.argv[0] == "bwrap":
            chdir = launch.argv.index("--chdir")
            launch.argv[chdir + 1] = self.inside_cwd
            return launch
        return Launch(launch.argv, launch.env, self.inside_cwd, launch.uid)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        launch = self.launch(kernel_cmd)
        kw.pop("env", None)  # jupyter's environment is the grader's: never hand it over
        kw.update(launch.popen_kwargs(), cwd=launch.cwd)
        with open(self.log_file, "ab") as log:
            kw.update(stdout=log, stderr=log)
            await super()._async_launch_kernel(launch.argv, **kw)
