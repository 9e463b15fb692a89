"""The Solver's contract as the CS231n notebooks rely on it, checked with scripted models."""

from __future__ import annotations

import re
import types

import numpy as np
import pytest

from gradekit.solver import Solver, load_checkpoint


def inplace_sgd(w, dw, config):
    """Plain SGD that mutates ``w`` as CS231n's ``sgd`` does (exposes aliasing bugs)."""
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


class Counter:
    """A model whose only parameter counts the updates: every gradient is -1, so SGD with
    learning rate 1 adds 1 per iteration. It predicts class 0 exactly when the count equals
    ``peak``, so with all-zero labels its accuracy is 1 at that step and 0 elsewhere."""

    def __init__(self, peak: int = -1) -> None:
        self.params = {"count": np.zeros(1)}
        self.peak = peak
        self.loss_batches: list[int] = []
        self.predict_batches: list[int] = []

    def loss(self, X, y=None):
        if y is None:
            self.predict_batches.append(len(X))
            hit = abs(self.params["count"][0] - self.peak) < 0.5
            return np.tile([1.0, 0.0] if hit else [0.0, 1.0], (len(X), 1))
        self.loss_batches.append(len(X))
        return float(self.params["count"][0]), {"count": -np.ones(1)}


def zeros_data(n_train: int, n_val: int = 10) -> dict[str, np.ndarray]:
    return {"X_train": np.zeros((n_train, 3)), "y_train": np.zeros(n_train, dtype=int),
            "X_val": np.zeros((n_val, 3)), "y_val": np.zeros(n_val, dtype=int),
            "X_test": np.zeros((2, 3))}


def counter_solver(model=None, n_train=10, **kwargs) -> Solver:
    settings = {"update_rule": inplace_sgd, "optim_config": {"learning_rate": 1.0},
                "batch_size": 10, "num_epochs": 5, "verbose": False} | kwargs
    return Solver(model or Counter(), zeros_data(n_train), **settings)


@pytest.mark.parametrize(("n_train", "batch_size", "num_epochs", "expected"), [
    (50, 25, 20, 40),      # the notebooks' overfit run
    (100, 50, 35, 70),     # the conv overfit run
    (49, 25, 3, 3),        # N // batch_size rounds down
    (10, 32, 4, 4),        # fewer samples than a batch: still one iteration per epoch
])
def test_iterations_are_epochs_times_batches_per_epoch(n_train, batch_size, num_epochs,
                                                       expected):
    solver = counter_solver(n_train=n_train, batch_size=batch_size, num_epochs=num_epochs)
    solver.train()
    assert solver.num_iterations == expected
    assert len(solver.loss_history) == expected
    assert set(solver.model.loss_batches) == {batch_size}
    assert solver.epoch == num_epochs
    # Checked after the first iteration and after every epoch; with one iteration per epoch
    # those coincide, as in CS231n.
    checks = num_epochs + (solver.iterations_per_epoch > 1)
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == checks


def test_learning_rate_decays_once_per_epoch():
    seen = []

    def recording_sgd(w, dw, config):
        seen.append(config["learning_rate"])
        return w - config["learning_rate"] * dw, config

    solver = counter_solver(n_train=30, update_rule=recording_sgd, num_epochs=4, lr_decay=0.5,
                            optim_config={"learning_rate": 0.8})
    solver.train()
    per_epoch = solver.iterations_per_epoch
    assert per_epoch == 3
    assert seen == [0.8 * 0.5 ** (t // per_epoch) for t in range(12)]
    assert solver.optim_configs["count"]["learning_rate"] == pytest.approx(0.8 * 0.5 ** 4)


def test_best_validation_params_are_restored_after_training():
    solver = counter_solver(Counter(peak=2), num_epochs=6)
    solver.train()
    # One iteration per epoch: accuracies are checked at counts 1, 2, ..., 6.
    assert solver.val_acc_history == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert solver.best_val_acc == 1.0
    assert solver.model.params["count"][0] == 2.0  # not 6: the in-place updates did not leak


def test_first_checked_params_are_kept_when_validation_never_improves():
    solver = counter_solver(Counter(peak=-1), num_epochs=3)
    solver.train()
    assert solver.best_val_acc == 0.0
    assert solver.model.params["count"][0] == 1.0


def test_log_lines_use_the_notebook_formats(capsys):
    solver = counter_solver(n_train=20, num_epochs=2, verbose=True, print_every=2)
    solver.train()
    lines = capsys.readouterr().out.splitlines()
    iteration = re.compile(r"^\(Iteration (\d+) / 4\) loss: \d+\.\d{6}$")
    epoch = re.compile(r"^\(Epoch (\d+) / 2\) train acc: \d\.\d{6}; val_acc: \d\.\d{6}$")
    assert [int(iteration.match(line)[1]) for line in lines if iteration.match(line)] == [1, 3]
    assert [int(epoch.match(line)[1]) for line in lines if epoch.match(line)] == [0, 1, 2]
    assert all(iteration.match(line) or epoch.match(line) for line in lines)


def test_quiet_solver_prints_nothing(capsys):
    counter_solver().train()
    assert capsys.readouterr().out == ""


def test_check_accuracy_predicts_in_batches_and_subsamples():
    model = Counter(peak=0)  # predicts class 0 everywhere before training
    solver = counter_solver(model)
    y = np.array([0] * 150 + [1] * 100)
    assert solver.check_accuracy(np.zeros((250, 3)), y) == pytest.approx(0.6)
    assert model.predict_batches == [100, 100, 50]
    model.predict_batches.clear()
    solver.check_accuracy(np.zeros((250, 3)), y, num_samples=70, batch_size=32)
    assert model.predict_batches == [32, 32, 6]


def test_accuracy_subsamples_follow_num_train_and_num_val_samples():
    model = Counter()
    solver = counter_solver(model, n_train=40, batch_size=40, num_epochs=1,
                            num_train_samples=25, num_val_samples=4)
    solver.train()
    # One check (the first iteration ends the only epoch) of 25 training and 4 validation
    # rows, each predicted in one batch.
    assert model.predict_batches == [25, 4]


def test_each_parameter_gets_its_own_optimizer_state():
    def accumulate(w, dw, config):
        config["m"] += dw  # in place: shared state would mix the two parameters' gradients
        return w - config["learning_rate"] * config["m"], config

    class TwoParams:
        def __init__(self) -> None:
            self.params = {"a": np.zeros(2), "b": np.zeros(2)}

        def loss(self, X, y=None):
            if y is None:
                return np.zeros((len(X), 2))
            return 0.0, {"a": np.ones(2), "b": -2 * np.ones(2)}

    shared_start = np.zeros(2)
    solver = Solver(TwoParams(), zeros_data(10), update_rule=accumulate, batch_size=10,
                    num_epochs=3, verbose=False,
                    optim_config={"learning_rate": 0.1, "m": shared_start})
    solver.train()
    assert solver.optim_configs["a"]["m"] is not solver.optim_configs["b"]["m"]
    np.testing.assert_array_equal(solver.optim_configs["a"]["m"], [3.0, 3.0])
    np.testing.assert_array_equal(solver.optim_configs["b"]["m"], [-6.0, -6.0])
    np.testing.assert_array_equal(shared_start, [0.0, 0.0])


def test_update_rule_name_is_looked_up_in_optim_module():
    optim = types.ModuleType("course_optim")
    optim.halve = lambda w, dw, config: (w / 2, config)
    solver = counter_solver(update_rule="halve", optim_module=optim)
    assert solver.update_rule is optim.halve

    class PinnedSolver(Solver):
        optim_module = optim

    assert PinnedSolver(Counter(), zeros_data(10), update_rule="halve").update_rule is optim.halve
    with pytest.raises(ValueError, match="'adam' is not a function of course_optim"):
        counter_solver(update_rule="adam", optim_module=optim)


def test_update_rule_name_is_resolved_through_the_plugin_system():
    from gradekit.components import components

    sgd = components("mixed").get("optim.sgd")
    assert counter_solver(update_rule="sgd").update_rule is sgd
    with pytest.raises(ValueError, match="unknown update_rule 'sgd_typo'"):
        counter_solver(update_rule="sgd_typo")


def test_update_rule_must_be_a_name_or_a_function():
    with pytest.raises(TypeError, match="update_rule must be a name"):
        counter_solver(update_rule=0.01)


def test_unknown_arguments_are_rejected_with_a_hint():
    with pytest.raises(TypeError, match=r"'learning_rate' \(pass it as optim_config"):
        counter_solver(learning_rate=1e-3)
    with pytest.raises(TypeError, match=r"'num_epoch' \(did you mean 'num_epochs'\?\)"):
        counter_solver(num_epoch=3)


def test_missing_data_keys_are_named():
    data = zeros_data(10)
    del data["y_val"]
    with pytest.raises(KeyError, match="y_val"):
        Solver(Counter(), data, update_rule=inplace_sgd)


def test_checkpoints_round_trip_without_pickle(tmp_path):
    name = str(tmp_path / "run")
    solver = counter_solver(Counter(peak=2), n_train=20, num_epochs=3, checkpoint_name=name,
                            lr_decay=0.9)
    solver.train()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [f"run_epoch_{e}.npz" for e in range(4)]

    fresh = Counter()
    checkpoint = load_checkpoint(tmp_path / "run_epoch_2.npz", fresh)
    # Two iterations per epoch, the second epoch's steps decayed to 0.9.
    assert fresh.params["count"][0] == pytest.approx(3.8)
    assert checkpoint.epoch == 2
    assert checkpoint.val_acc_history == [0.0, 1.0, 0.0]
    assert checkpoint.loss_history == pytest.approx([0.0, 1.0, 2.0, 2.9])  # count before update
    assert checkpoint.best_val_acc == 1.0
    assert checkpoint.config["lr_decay"] == 0.9
    assert checkpoint.config["update_rule"] == "inplace_sgd"
    assert checkpoint.config["optim_config"] == {"learning_rate": 1.0}
    with np.load(tmp_path / "run_epoch_2.npz", allow_pickle=False) as archive:
        assert all(archive[key].dtype != object for key in archive.files)


def test_loading_a_checkpoint_into_the_wrong_model_says_what_differs(tmp_path):
    solver = counter_solver(num_epochs=1, checkpoint_name=str(tmp_path / "run"))
    solver.train()

    other = types.SimpleNamespace(params={"W1": np.zeros(1)})
    with pytest.raises(ValueError, match=r"holds parameters \['count'\] but the model has"):
        load_checkpoint(tmp_path / "run_epoch_1.npz", other)


def test_loading_a_foreign_npz_is_refused(tmp_path):
    np.savez(tmp_path / "weights.npz", W1=np.zeros(3))
    with pytest.raises(ValueError, match="not a gradekit checkpoint"):
        load_checkpoint(tmp_path / "weights.npz")
