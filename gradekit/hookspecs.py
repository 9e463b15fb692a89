"""Hook specifications: every extension point of gradekit, in one place.

Plugins implement these with :data:`gradekit.hookimpl` and are found through the
``gradekit`` entry-point group (see :mod:`gradekit.plugin_manager`). Hooks follow pluggy's
rules: the most recently registered plugin is called first, and ``firstresult`` hooks stop
at the first plugin that returns something other than ``None``.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("gradekit")


@hookspec(firstresult=True)
def gradekit_implementation(api: str, name: str) -> Any | None:
    """Return the implementation of component ``name`` in assignment API ``api``, or ``None``.

    ``api`` is the API flavour of an assignment pack (``"cs231n"`` for the classic layered
    API). ``name`` is a stable dotted name inside it, such as ``"layers.affine_forward"``,
    ``"optim.adam"`` or ``"classifiers.fc_net.FullyConnectedNet"``.

    The reference plugin provides every component; a submission plugin is registered on top
    of it, so a student's implementation is found first. Return ``None`` for names you do
    not provide so that the next plugin is asked.
    """


@hookspec(firstresult=True)
def gradekit_why_missing(api: str, name: str) -> str | None:
    """Say why this plugin cannot provide component ``name`` although it should, or ``None``.

    Asked only when no plugin of the source a test uses provides ``name``. A submission
    plugin answers, for instance, ``"cs231n/layers.py failed to import: SyntaxError: ..."``,
    so a test reports the real fault instead of "not implemented".
    """


@hookspec
def gradekit_components(api: str) -> list[str] | None:
    """Return the component names this plugin can provide for ``api`` (or ``None``).

    Used for listings (``gradekit plugins``) and to tell a missing component apart from a
    misspelt one. It must agree with :func:`gradekit_implementation`.
    """


@hookspec
def gradekit_assignment_packs() -> list | None:
    """Return folders of assignment packs this plugin contributes (each with an
    ``assignment.toml``).

    The built-in plugin contributes ``assignments/*`` of the course repository; a course can
    ship its packs in an installable plugin instead.
    """


@hookspec
def gradekit_rubrics() -> dict | None:
    """Return rubric kinds this plugin adds, as ``{kind: factory}``.

    A factory takes the parameters a pack declares for its rubric (e.g. ``at=55``) and
    returns a :class:`gradekit.harness.rubrics.Rubric`, which maps an accuracy fraction to
    a credit in [0, 1]. Built in: ``threshold``, ``linear`` and ``formula``. A plugin
    registered later overrides a kind of the same name.
    """


@hookspec
def gradekit_report_writers() -> dict | None:
    """Return report formats this plugin adds, as ``{format_name: writer}``.

    A writer is called as ``writer(results, out)`` with a list of
    :class:`gradekit.harness.results.SubmissionResult` and a text stream. Built in:
    ``table``, ``json``, ``csv``, ``gradescope`` and ``html``. A plugin registered later
    overrides a format of the same name.
    """


@hookspec
def gradekit_datasets() -> dict | None:
    """Return data sets this plugin adds, as ``{name: loader}``.

    A loader is called with keyword options (e.g. ``num_training=500``) and returns the
    notebooks' dict of arrays (``X_train``, ``y_train``, ``X_val``, ...); when its files are
    missing it raises an error that says how to get them. Tests reach loaders through the
    ``dataset`` fixture. Built in: ``cifar10`` and ``digits``.
    """
