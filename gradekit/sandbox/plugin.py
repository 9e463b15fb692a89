"""The submission as a pluggy plugin: its components are proxies into its worker.

Registered as ``submission:<id>`` on top of the reference, so
:class:`gradekit.components.Components` finds the student's version first for ``impl`` and
``mixed``, and never for ``ref``.
"""

from __future__ import annotations

from typing import Any

import pluggy

from gradekit import hookimpl
from gradekit.plugin_manager import SUBMISSION_PREFIX
from gradekit.sandbox.client import WorkerClient
from gradekit.sandbox.proxies import RemoteObject


class SubmissionPlugin:
    """Serve the components a :class:`WorkerClient` found in one submission."""

    def __init__(self, client: WorkerClient, submission_id: str) -> None:
        self.client = client
        self.name = f"{SUBMISSION_PREFIX}{submission_id}"
        self._proxies: dict[str, RemoteObject] = {}

    @hookimpl
    def gradekit_implementation(self, api: str, name: str) -> Any | None:
        if api != self.client.api or name not in self.client.available():
            return None
        if name not in self._proxies:
            self._proxies[name] = RemoteObject(self.client, name)
        return self._proxies[name]

    @hookimpl
    def gradekit_why_missing(self, api: str, name: str) -> str | None:
        if api != self.client.api:
            return None
        failed = self.client.unavailable()
        prefixes = [p for p in failed if name.startswith(f"{p}.")]
        return failed[max(prefixes, key=len)].summary if prefixes else None

    @hookimpl
    def gradekit_components(self, api: str) -> list[str] | None:
        return self.client.available() if api == self.client.api else None

    def register(self, pm: pluggy.PluginManager) -> SubmissionPlugin:
        """Register on ``pm`` above everything registered so far."""
        pm.register(self, name=self.name)
        return self

    def __repr__(self) -> str:
        return f"SubmissionPlugin({self.name!r}, {self.client!r})"
