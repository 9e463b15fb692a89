"""Runs INSIDE the student's kernel: turn an artifact model's predictions into a ``.npy`` file.

Only images come in (``images.npy``); only scores go out (``scores.npy``, numbers only).
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
