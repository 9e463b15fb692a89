"""A Jupyter kernel that runs inside the submission's sandbox.

The kernel talks to the grader over ZeroMQ's IPC transport. Under bubblewrap its sockets live
in the sandbox's own sized ``/tmp``, and the grader reaches them through a descriptor of the
sandbox's root (``/proc/self/fd/N/tmp/...``), so nothing the kernel writes is on the host's
disk. The connection file comes in through the read-only inbox. Under ``--unshare-pid`` the
kernel must not be the direct child of the sandbox's pid 1 (ipykernel would take its parent
for dead), so a small shell starts it and waits. Interrupts travel as messages on the control
channel: a signal sent to bubblewrap would not reach the kernel.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

from gradekit.sandbox.beneath import FilesBeneath
from gradekit.sandbox.capture import OutputCapture
from gradekit.sandbox.confinement import Confinement
from gradekit.sandbox.launcher import plan_command
from gradekit.sandbox.mounts import INBOX

KERNEL_SPEC = KernelSpec(
    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
          # np.int and friends, for notebooks of earlier years (gradekit.sandbox.numpy_compat)
          "--IPKernelApp.exec_lines=__import__('gradekit.sandbox.numpy_compat', fromlist=['_'])"
          ".restore_removed_names()"],
    display_name="Python 3 (gradekit sandbox)",
    language="python",
    interrupt_mode="message",
)
# Keeps the kernel one process below the sandbox's pid 1 (``sh -c cmd`` would exec cmd).
UNDER_A_SHELL = ["/bin/sh", "-c", '"$@"; exit $?', "sh"]
#: The kernel's sockets and the scores it writes, inside a bubblewrap sandbox.
SANDBOX_EXCHANGE = "/tmp/.gradekit-exchange"
def exchange_folder(confinement: Confinement, scratch: Path) -> str:
    """Where the kernel's sockets and score files are, as the kernel sees it."""
    return SANDBOX_EXCHANGE if confinement.mode == "bwrap" else str(scratch / "exchange")


def config_env(exchange: str) -> dict[str, str]:
    """Fresh configuration folders for the kernel: a submission's ``.ipython`` or ``.jupyter``
    (or another submission's) never configures the grader's kernel."""
    return {"IPYTHONDIR": f"{exchange}/ipython", "JUPYTER_CONFIG_DIR": f"{exchange}/jupyter",
            "JUPYTER_DATA_DIR": f"{exchange}/jupyter", "MPLCONFIGDIR": f"{exchange}/mpl"}


def inbox_path(confinement: Confinement, scratch: Path, name: str) -> str:
    """Where a file the grader puts in the inbox is, as the kernel sees it."""
    return f"{INBOX}/{name}" if confinement.mode == "bwrap" else str(scratch / "inbox" / name)


class SandboxedKernelManager(AsyncKernelManager):
    """Starts ipykernel through :func:`gradekit.sandbox.launcher.plan_command`.

    ``source`` is the submission as loaded, ``folder`` where the notebook sits in it,
    ``scratch`` a grader-owned folder holding the ``inbox`` (read-only to the kernel) and,
    without bubblewrap, the kernel's ``exchange`` folder and work dir. The kernel's own
    stdout and stderr go to ``capture``. After the start, :attr:`files` reads what the kernel
    wrote without following its links.
    """

    def __init__(self, *, confinement: Confinement, source: Path, scratch: Path, folder: str,
                 capture: OutputCapture, **kwargs: Any) -> None:
        self.confinement, self.source, self.scratch, self.folder = (
            confinement, source, scratch, folder)
        self.capture = capture
        self.exchange = exchange_folder(confinement, scratch)
        self.files: FilesBeneath | None = None
        super().__init__(transport="ipc", ip=f"{self.exchange}/kernel",
                         connection_file=str(scratch / "inbox" / "kernel.json"), **kwargs)

    @property
    def kernel_spec(self) -> KernelSpec:
        """Always our own kernel: a notebook's ``kernelspec`` never picks what runs."""
        return KERNEL_SPEC

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        uid = self.confinement.uid
        if uid is not None:  # readable by the kernel's uid, writable by nobody but the grader
            os.chown(self.connection_file, -1, uid)
            os.chmod(self.connection_file, 0o640)

    def cleanup_ipc_files(self) -> None:
        """The sockets vanish with the sandbox, or with the grader's scratch folder."""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        inside = inbox_path(self.confinement, self.scratch, "kernel.json")
        command = [inside if arg == self.connection_file else arg for arg in kernel_cmd]
        bwrap = self.confinement.mode == "bwrap"
        launch = plan_command(self.confinement, [*UNDER_A_SHELL, *command], self.source,
                              self.scratch, folder=self.folder, inbox=self.scratch / "inbox",
                              dirs=[self.exchange] if bwrap else [],
                              env=config_env(self.exchange))
        kw.pop("env", None)  # jupyter's environment is the grader's: never hand it over
        kw.update(launch.popen_kwargs(), cwd=launch.cwd)
        output_read, output_write = os.pipe()
        kw.update(stdout=output_write, stderr=output_write)
        try:
            await super()._async_launch_kernel(launch.argv, **kw)
        finally:
            os.close(output_write)
            launch.started()
        self.capture.drain(output_read)
        if bwrap:
            root = launch.sandbox_root()
            self.files = FilesBeneath(root, "/")
            self.ip = f"/proc/self/fd/{root}{self.exchange}/kernel"
        else:
            launch.close()
            self.files = FilesBeneath.of_folder(self.scratch)
