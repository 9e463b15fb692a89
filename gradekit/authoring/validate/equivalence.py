"""Is a surviving mutant equivalent on every input the tests give it?

The mutant's definition is run beside the correct one on each call the tests make: the
arguments (and, for a method, the object) are copied before the call, the correct code runs
on the copies from the same random state, and results, what each did to its arguments and
the random state after are compared exactly. A mutant no call told apart is listed as
equivalent, apart from the survivors; one that differed somewhere survives: some output
changed and no test looked. This runs the reference's own mutant in-process, unsandboxed: it
is the instructor's code, never a student's.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import itertools
import shutil
import sys
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gradekit.authoring.validate.mutants import Mutant
from gradekit.packs import AssignmentPack

#: the tests that train nets or need the notebooks: the sandboxed grade ran them already
LEFT_OUT = ("test_training.py", "test_accuracy.py")
_unique = itertools.count()


@dataclass
class Twin:
    """What the side-by-side runs saw: ``calls`` of the mutated definition, and the first
    one whose outcome differed (empty if none did)."""

    calls: int = 0
    difference: str = ""

    @property
    def equivalent(self) -> bool:
        return self.calls > 0 and not self.difference


def same(a: Any, b: Any) -> bool:
    """Exact equality of two outcomes: arrays by dtype, shape and every value (NaN equal)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind
                                                               in "fc")))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if hasattr(a, "__dict__") and not inspect.isroutine(a) and not inspect.isclass(a):
        return same(vars(a), vars(b))
    try:
        return bool(a == b)
    except Exception:
        return repr(a) == repr(b)


def _run(function: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except Exception as exc:
        return exc


def _twin(mutated: Callable[..., Any], correct: Callable[..., Any], twin: Twin,
          cls: type | None = None,
          objects: weakref.WeakKeyDictionary | None = None) -> Callable[..., Any]:
    """``mutated``, also running ``correct`` on copies of each call's inputs and noting the
    first call whose outcome differs. For a method, ``cls`` is the correct class and
    ``objects`` holds, for each object built by the mutant's constructor, its state after the
    last call and the correct object built and called alike: what the methods store counts
    only through what later calls return, not as state (a longer list of unused batchnorm
    parameters is no bug), as long as the test leaves the object alone."""
    constructor = cls is not None and mutated.__name__ == "__init__"

    @functools.wraps(mutated)
    def call(*args: Any, **kwargs: Any) -> Any:
        twin.calls += 1
        inputs = copy.deepcopy((args, kwargs))
        built = _built(objects, args) if cls is not None and not constructor else None
        state = np.random.get_state()
        got = _run(mutated, args, kwargs)
        after = np.random.get_state()
        if not twin.difference:
            their_args, their_kwargs = inputs
            if cls is not None:
                their_args[0].__class__ = cls
            np.random.set_state(state)
            expected = _run(correct, their_args, their_kwargs)
            their_after = np.random.get_state()
            mine, theirs = (args, kwargs), (their_args, their_kwargs)
            if cls is not None:
                their_args[0].__class__ = type(args[0])
                if constructor or built is not None:  # judged by what its methods return
                    mine, theirs = (args[1:], kwargs), (their_args[1:], their_kwargs)
            twin.difference = _differ(got, expected, mine, theirs, after, their_after)
            if not twin.difference and built is not None:
                np.random.set_state(state)
                from_correct = _run(correct, (built, *copy.deepcopy(args[1:])),
                                    copy.deepcopy(kwargs))
                if not isinstance(got, Exception) and not same(got, from_correct):
                    twin.difference = ("returned another value than the object the correct "
                                       "constructor built")
            if objects is not None and (constructor or built is not None):
                their_args[0].__class__ = cls
                correct_object = their_args[0] if constructor else built
                objects[args[0]] = (copy.deepcopy(vars(args[0])), correct_object)
            np.random.set_state(after)
        if isinstance(got, Exception):
            raise got
        return got

    return call


def _built(objects: weakref.WeakKeyDictionary | None, args: tuple) -> Any | None:
    """The correct twin of a method's object, if the object is as its last call left it."""
    if objects is None or not args:
        return None
    try:
        state, correct_object = objects.pop(args[0])
    except (KeyError, TypeError):
        return None
    return correct_object if same(vars(args[0]), state) else None


def _differ(got: Any, expected: Any, inputs: Any, their_inputs: Any, state: Any,
            their_state: Any) -> str:
    if isinstance(got, Exception) or isinstance(expected, Exception):
        if type(got) is not type(expected):
            return f"raised {type(got).__name__} where the correct code gave {type(expected)}"
        return ""
    if not same(got, expected):
        return "returned another value"
    if not same(inputs, their_inputs):
        return "left its arguments (or object) in another state"
    if not same(state[1], their_state[1]) or state[2] != their_state[2]:
        return "drew other random numbers"
    return ""


def run_side_by_side(pack: AssignmentPack, course_root: Path, solution: Path,
                     mutant: Mutant) -> Twin:
    """Grade ``mutant`` in-process with its definition twinned with the correct one (see the
    module docstring), on the pack's tests but those of :data:`LEFT_OUT`."""
    from gradekit.harness.session import run_tests
    from gradekit.plugin_manager import SUBMISSION_PREFIX, create_plugin_manager
    from gradekit.providers import ModuleProvider
    from gradekit.submission.package import dotted
    from gradekit.versions import Version

    if not mutant.file.startswith(pack.package + "/"):
        return Twin(difference="is outside the package, where it is not compared")
    scratch = Path(tempfile.mkdtemp(prefix="gradekit-twin-"))
    names = {kind: f"gk_{kind}_{next(_unique)}_{pack.package}" for kind in ("mutant", "correct")}
    for name in names.values():
        shutil.copytree(solution / pack.package, scratch / name)
    mutant.apply(_renamed(scratch, names["mutant"], pack, mutant))
    sys.path.insert(0, str(scratch))
    twin = Twin()
    try:
        module = dotted(next(rel for prefix, rel in _files(pack).items()
                             if mutant.component.startswith(prefix + ".")))
        _install(importlib.import_module(f"{names['mutant']}.{module}"),
                 importlib.import_module(f"{names['correct']}.{module}"),
                 mutant.component.rpartition(".")[2], twin, names["mutant"])
        pm = create_plugin_manager(course_root, entry_points=False)
        modules = {prefix: f"{names['mutant']}.{dotted(rel)}"
                   for prefix, rel in pack.modules.items()}
        pm.register(ModuleProvider(pack.api, modules), name=SUBMISSION_PREFIX + names["mutant"])
        hidden = without_end_to_end(pack.hidden_test_paths(course_root))
        tests = [*pack.visible_test_paths(), *hidden]
        run_tests(tests, pm, part_points=pack.part_points, version=Version.of(pack),
                  assignment=pack.name)
    finally:
        sys.path.remove(str(scratch))
        for loaded in [m for m in sys.modules if m.split(".")[0] in names.values()]:
            del sys.modules[loaded]
        shutil.rmtree(scratch, ignore_errors=True)
    return twin


def _files(pack: AssignmentPack) -> dict[str, str]:
    """Module prefix -> file inside the package, longest prefix first."""
    from gradekit.authoring.validate.mutants import starter_files

    inside = {prefix: where.split("/", 1)[1] for prefix, where in starter_files(pack).items()
              if where.startswith(pack.package + "/")}
    return dict(sorted(inside.items(), key=lambda item: -len(item[0])))


def _renamed(scratch: Path, name: str, pack: AssignmentPack, mutant: Mutant) -> Path:
    """Where ``mutant.apply`` finds its file once the package is called ``name``: a top
    whose ``<package>`` is that folder."""
    top = scratch / f"{name}-top"
    top.mkdir()
    (top / pack.package).symlink_to(scratch / name)
    return top


def _install(module: Any, correct_module: Any, name: str, twin: Twin, package: str) -> None:
    """Put the twinned ``name`` where the mutant's code and the tests find it."""
    mutated, correct = getattr(module, name), getattr(correct_module, name)
    if inspect.isclass(mutated):
        objects: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        for attr, value in list(vars(mutated).items()):
            if inspect.isfunction(value):
                setattr(mutated, attr, _twin(value, vars(correct)[attr], twin, correct,
                                             objects))
        return
    wrapped = _twin(mutated, correct, twin)
    for loaded in [m for n, m in sys.modules.items() if n.split(".")[0] == package]:
        for attr, value in list(vars(loaded).items()):
            if value is mutated:
                setattr(loaded, attr, wrapped)


def without_end_to_end(paths: list[Path]) -> list[Path]:
    """``paths`` without the test modules of :data:`LEFT_OUT` (folders become files)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir() and any((path / name).is_file() for name in LEFT_OUT):
            out += sorted(f for f in path.glob("test_*.py") if f.name not in LEFT_OUT)
        elif path.name not in LEFT_OUT:
            out.append(path)
    return out
