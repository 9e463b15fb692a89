"""The minibatch training loop students are given, with CS231n's ``Solver`` semantics.

Notebooks of the CS231n family log, plot and grade what this class records, so its
behaviour follows theirs exactly: random minibatches from NumPy's global generator (students
seed it with ``np.random.seed``), ``num_epochs * max(N // batch_size, 1)`` iterations, the
learning rate decayed once per epoch, accuracies checked after the first iteration and at the
end of every epoch, and the best-validation parameters put back into the model after
:meth:`Solver.train`.

Two things differ on purpose: checkpoints are ``.npz`` files with JSON metadata rather than
pickles (a grader loads them from untrusted submissions), and update rules named by a string
are found through gradekit's plugin system unless an ``optim_module`` is given.

A model is anything with a ``params`` dict of arrays and ``loss(X, y=None)`` returning scores
when ``y`` is ``None`` and ``(loss, grads)`` otherwise.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

UpdateRule = Callable[[np.ndarray, np.ndarray, dict], tuple[np.ndarray, dict]]

REQUIRED_DATA = ("X_train", "y_train", "X_val", "y_val")
_PARAM_PREFIX = "params/"
_METADATA_KEY = "metadata"


def resolve_update_rule(name: str, optim_module: ModuleType | None = None) -> UpdateRule:
    """The update rule called ``name``: from ``optim_module`` if given, else ``optim.<name>``
    from the plugin system (the student's rule where one is registered, the reference's
    otherwise)."""
    if optim_module is not None:
        rule = getattr(optim_module, name, None)
        if not callable(rule):
            raise ValueError(f"update_rule {name!r} is not a function of {optim_module.__name__}; "
                             "pass an existing name or the function itself")
        return rule
    from gradekit.components import MissingComponent, components

    try:
        return components("mixed").get(f"optim.{name}")
    except MissingComponent as exc:
        raise ValueError(f"unknown update_rule {name!r} ({exc}); pass the name of a function "
                         "in optim (e.g. 'sgd', 'adam'), the function itself, or "
                         "optim_module=<your optim module>") from exc


class Solver:
    """Train a classification model with minibatch gradient descent.

    ``data`` holds ``X_train``, ``y_train``, ``X_val`` and ``y_val`` (other keys such as
    ``X_test`` are ignored). ``update_rule`` is a name or a function ``rule(w, dw, config)
    -> (next_w, config)``; every parameter gets its own copy of ``optim_config``.
    """

    #: Module whose functions are the update rules named by strings; ``None`` asks gradekit's
    #: plugin system. Set it on a subclass (or pass ``optim_module=``) to pin a course's optim.
    optim_module: ModuleType | None = None

    def __init__(
        self,
        model: Any,
        data: Mapping[str, np.ndarray],
        *,
        update_rule: str | UpdateRule = "sgd",
        optim_config: Mapping[str, Any] | None = None,
        lr_decay: float = 1.0,
        batch_size: int = 100,
        num_epochs: int = 10,
        num_train_samples: int | None = 1000,
        num_val_samples: int | None = None,
        checkpoint_name: str | None = None,
        print_every: int = 10,
        verbose: bool = True,
        optim_module: ModuleType | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise TypeError(_unknown_kwargs_message(unknown))
        missing = [key for key in REQUIRED_DATA if key not in data]
        if missing:
            raise KeyError(f"data is missing {', '.join(missing)}; Solver needs a dict with "
                           f"{', '.join(REQUIRED_DATA)}")
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]

        if optim_module is not None:
            self.optim_module = optim_module
        if isinstance(update_rule, str):
            self.update_rule = resolve_update_rule(update_rule, self.optim_module)
            self.update_rule_name = update_rule
        elif callable(update_rule):
            self.update_rule = update_rule
            self.update_rule_name = getattr(update_rule, "__qualname__", repr(update_rule))
        else:
            raise TypeError(f"update_rule must be a name such as 'sgd' or a function "
                            f"rule(w, dw, config) -> (next_w, config), not {update_rule!r}")
        self.optim_config = dict(optim_config or {})
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.num_train_samples = num_train_samples
        self.num_val_samples = num_val_samples
        self.checkpoint_name = checkpoint_name
        self.print_every = print_every
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        """Fresh bookkeeping and one private optimizer config per parameter."""
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.optim_configs = {name: copy.deepcopy(self.optim_config) for name in self.model.params}

    @property
    def iterations_per_epoch(self) -> int:
        return max(self.X_train.shape[0] // self.batch_size, 1)

    @property
    def num_iterations(self) -> int:
        return self.num_epochs * self.iterations_per_epoch

    def _step(self) -> None:
        """One gradient update on a random minibatch (drawn with replacement, as CS231n)."""
        batch = np.random.choice(self.X_train.shape[0], self.batch_size)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))
        for name, w in list(self.model.params.items()):
            next_w, next_config = self.update_rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
            self.optim_configs[name] = next_config

    def check_accuracy(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None, batch_size: int = 100
    ) -> float:
        """Fraction of ``X`` classified as ``y``, on a random subsample of ``num_samples`` if
        given; predicted ``batch_size`` rows at a time to bound memory."""
        N = X.shape[0]
        if num_samples is not None and num_samples < N:
            subsample = np.random.choice(N, num_samples)
            X, y = X[subsample], y[subsample]
            N = num_samples
        predictions = [np.argmax(self.model.loss(X[start:start + batch_size]), axis=1)
                       for start in range(0, N, batch_size)]
        return float(np.mean(np.concatenate(predictions) == y))

    def train(self) -> None:
        """Run the optimisation, then leave the best-validation parameters in the model."""
        for t in range(self.num_iterations):
            self._step()
            if self.verbose and t % self.print_every == 0:
                print(f"(Iteration {t + 1} / {self.num_iterations}) "
                      f"loss: {self.loss_history[-1]:f}")
            epoch_end = (t + 1) % self.iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                self._decay_learning_rates()
            if t == 0 or epoch_end:
                self._record_accuracies()
        if self.best_params:
            self.model.params = {name: w.copy() for name, w in self.best_params.items()}

    def _decay_learning_rates(self) -> None:
        """Multiply each parameter's learning rate by ``lr_decay`` (rules that never set one,
        e.g. a custom callable with a fixed step, are left alone)."""
        for config in self.optim_configs.values():
            if "learning_rate" in config:
                config["learning_rate"] *= self.lr_decay

    def _record_accuracies(self) -> None:
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if self.checkpoint_name is not None:
            save_checkpoint(f"{self.checkpoint_name}_epoch_{self.epoch}.npz", self)
        if self.verbose:
            print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; "
                  f"val_acc: {val_acc:f}")
        if not self.best_params or val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {name: w.copy() for name, w in self.model.params.items()}

    def config(self) -> dict[str, Any]:
        """The hyperparameters of this run, as JSON-safe values (for checkpoints and logs)."""
        return {
            "update_rule": self.update_rule_name,
            "optim_config": _json_safe(self.optim_config),
            "lr_decay": self.lr_decay,
            "batch_size": self.batch_size,
            "num_epochs": self.num_epochs,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
        }


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds: the model's parameters and the run so far."""

    params: dict[str, np.ndarray]
    epoch: int
    config: dict[str, Any]
    best_val_acc: float
    loss_history: list[float] = field(default_factory=list)
    train_acc_history: list[float] = field(default_factory=list)
    val_acc_history: list[float] = field(default_factory=list)


def save_checkpoint(path: str | Path, solver: Solver) -> Path:
    """Write the solver's model parameters and metadata to one ``.npz`` file (no pickle)."""
    metadata = {
        "epoch": solver.epoch,
        "config": solver.config(),
        "best_val_acc": solver.best_val_acc,
        "loss_history": solver.loss_history,
        "train_acc_history": solver.train_acc_history,
        "val_acc_history": solver.val_acc_history,
    }
    arrays = {_PARAM_PREFIX + name: np.asarray(w) for name, w in solver.model.params.items()}
    path = Path(path)
    with path.open("wb") as f:
        np.savez(f, **arrays, **{_METADATA_KEY: np.array(json.dumps(metadata))})
    return path


def load_checkpoint(path: str | Path, model: Any | None = None) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`; if ``model`` is given, put the
    saved parameters into ``model.params`` (the names must match the model's)."""
    with np.load(path, allow_pickle=False) as archive:
        if _METADATA_KEY not in archive.files:
            raise ValueError(f"{path} is not a gradekit checkpoint (no {_METADATA_KEY!r} entry)")
        metadata = json.loads(str(archive[_METADATA_KEY]))
        params = {key.removeprefix(_PARAM_PREFIX): archive[key]
                  for key in archive.files if key.startswith(_PARAM_PREFIX)}
    if model is not None:
        if set(params) != set(model.params):
            raise ValueError(f"{path} holds parameters {sorted(params)} but the model has "
                             f"{sorted(model.params)}; build the model with the architecture "
                             "the checkpoint was trained with")
        model.params = {name: w.copy() for name, w in params.items()}
    return Checkpoint(params=params, **metadata)


def _json_safe(value: Any) -> Any:
    """``value`` with arrays turned into lists and NumPy scalars into Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    return value


def _unknown_kwargs_message(unknown: Mapping[str, Any]) -> str:
    known = [p for p in inspect.signature(Solver.__init__).parameters
             if p not in ("self", "model", "data", "unknown")]
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if name == "learning_rate":
            hint = " (pass it as optim_config={'learning_rate': ...})"
        hints.append(f"{name!r}{hint}")
    return (f"Solver got unknown arguments {', '.join(hints)}; it accepts "
            f"{', '.join(known)}")
