"""Runs INSIDE the student's kernel: turn an artifact model's predictions into a ``.npy`` file.

Only images come in (``images.npy``); only scores or labels go out (a ``.npy``, numbers only).
The grader reads the scores with ``allow_pickle=False`` and compares them with labels the
kernel never sees.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def save_scores(model: Any, name: str, images_path: str, scores_path: str,
                batch_size: int) -> None:
    """Score the images in batches, like the Solver's ``check_accuracy``, and save them."""
    if model is None:
        raise ValueError(f"{name} is None: the notebook never stored a trained model in it")
    if not callable(getattr(model, "loss", None)):
        raise TypeError(f"{name} is a {type(model).__name__}, not a model with a loss(X) method")
    images = np.load(images_path, allow_pickle=False)
    scores = [np.asarray(model.loss(images[start:start + batch_size]), dtype=np.float64)
              for start in range(0, len(images), batch_size)]
    np.save(scores_path, np.concatenate(scores), allow_pickle=False)


def save_labels(function: Any, artifact: Any, name: str, images_path: str, labels_path: str,
                batch_size: int, features_first: bool = False, called: str = "") -> None:
    """Labels ``function(X, artifact)`` gives the images (all at once when ``batch_size`` is
    0), one per image, as the course's ``classify(X, parameters)`` returns them."""
    if artifact is None:
        raise ValueError(f"{name} is None: the notebook never stored what it trained in it")
    if not callable(function):
        raise TypeError(f"{getattr(function, '__name__', function)!r} is not a function")
    images = np.load(images_path, allow_pickle=False)
    called = called or getattr(function, "__name__", "the function")
    step = batch_size or max(len(images), 1)
    labels = []
    for start in range(0, len(images), step):
        batch = images[start:start + step]
        if features_first:  # (features, images), as feature-major courses lay data out
            batch = batch.reshape(len(batch), -1).T
        got = np.asarray(function(batch, artifact))
        if got.size != batch.shape[-1 if features_first else 0]:
            raise ValueError(f"{name} is not usable: {called} gave {got.size} labels for "
                             f"{batch.shape[-1 if features_first else 0]} images")
        labels.append(got.reshape(-1).astype(np.float64))
    np.save(labels_path, np.concatenate(labels) if labels else np.zeros(0), allow_pickle=False)
