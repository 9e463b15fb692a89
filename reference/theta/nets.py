"""Multi-layer neural nets with theta-named parameters (seed 004), written in the notebook.

A layer's weights are ``theta`` of shape (d, h) and its bias ``theta0`` of shape (h,); data
is laid out samples first, ``x`` of shape (m, d_1, ..., d_k) with m the batch size. Every
forward returns ``(out, cache)`` and every backward takes ``(dout, cache)``. The nets keep
their parameters in ``self.params`` (``theta1``, ``theta1_0``, ...) and add
``0.5 * reg * sum(theta**2)`` over the weight matrices to the loss, never over the biases:
the notebook's expected losses (26.5948426952, 59.1928674811) are reproduced only that way.
Weights are drawn layer by layer from NumPy's global generator, weights before biases.
"""

from typing import Any

import numpy as np


def affine_forward(x: np.ndarray, theta: np.ndarray,
                   theta0: np.ndarray) -> tuple[np.ndarray, Any]:
    """``x.reshape(m, d) @ theta + theta0``, shape (m, h); the cache is ``(x, theta, theta0)``."""
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ theta + theta0
    cache = (x, theta, theta0)
    ### END SOLUTION
    return out, cache


def affine_backward(dout: np.ndarray,
                    cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dtheta, dtheta0)`` of :func:`affine_forward`; dx has the shape x came in."""
    x, theta, _ = cache
    ### BEGIN SOLUTION
    dx = (dout @ theta.T).reshape(x.shape)
    dtheta = x.reshape(x.shape[0], -1).T @ dout
    dtheta0 = dout.sum(axis=0)
    ### END SOLUTION
    return dx, dtheta, dtheta0


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """Elementwise ``max(0, x)``; the cache is x itself."""
    ### BEGIN SOLUTION
    out = np.maximum(x, 0)
    ### END SOLUTION
    return out, x


def relu_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """The upstream gradient where the input was positive, 0 elsewhere (at 0 either is right)."""
    ### BEGIN SOLUTION
    dx = dout * (cache > 0)
    ### END SOLUTION
    return dx


def affine_relu_forward(x: np.ndarray, theta: np.ndarray,
                        theta0: np.ndarray) -> tuple[np.ndarray, Any]:
    """An affine layer followed by a ReLU (given); the cache is ``(fc_cache, relu_cache)``."""
    a, fc_cache = affine_forward(x, theta, theta0)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: np.ndarray,
                         cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dtheta, dtheta0)`` of :func:`affine_relu_forward` (given)."""
    fc_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Cross-entropy of softmax(x) for scores x (m, C) and labels y (m,), averaged over m;
    returns ``(loss, dx)``. Shift each row by its maximum first so large scores cannot
    overflow."""
    ### BEGIN SOLUTION
    m = x.shape[0]
    rows = np.arange(m)
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[rows, y].sum() / m
    dx = np.exp(log_p)
    dx[rows, y] -= 1
    dx /= m
    ### END SOLUTION
    return float(loss), dx


class TwoLayerNet:
    """affine - relu - affine - softmax, trained with the given Solver.

    Args:
        input_dim: the size of one input (3 * 32 * 32 for CIFAR-10).
        hidden_dim: the size of the hidden layer.
        num_classes: the number of classes.
        dropout: accepted for the course's signature; this net has no dropout layer.
        weight_scale: the standard deviation of the random initial weights.
        reg: the L2 regularisation strength, read when ``loss`` is called.
    """

    def __init__(self, input_dim: int = 3 * 32 * 32, hidden_dim: int = 100,
                 num_classes: int = 10, dropout: float = 0, weight_scale: float = 1e-3,
                 reg: float = 0.0) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.reg = reg
        ### BEGIN SOLUTION
        self.params["theta1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["theta1_0"] = np.zeros(hidden_dim)
        self.params["theta2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["theta2_0"] = np.zeros(num_classes)
        ### END SOLUTION

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        """Scores (m, C) when ``y`` is None, else ``(loss, grads)`` keyed like ``params``."""
        ### BEGIN SOLUTION
        p = self.params
        hidden, hidden_cache = affine_relu_forward(X, p["theta1"], p["theta1_0"])
        scores, scores_cache = affine_forward(hidden, p["theta2"], p["theta2_0"])
        if y is None:
            return scores
        data_loss, dscores = softmax_loss(scores, y)
        loss = data_loss + 0.5 * self.reg * (np.sum(p["theta1"] ** 2) + np.sum(p["theta2"] ** 2))
        grads = {}
        dhidden, grads["theta2"], grads["theta2_0"] = affine_backward(dscores, scores_cache)
        _, grads["theta1"], grads["theta1_0"] = affine_relu_backward(dhidden, hidden_cache)
        grads["theta1"] += self.reg * p["theta1"]
        grads["theta2"] += self.reg * p["theta2"]
        ### END SOLUTION
        return float(loss), grads


class ThreeLayerNet:
    """affine - relu - affine - relu - affine - softmax, trained with the given Solver; the
    arguments are those of :class:`TwoLayerNet`, with a size per hidden layer."""

    def __init__(self, input_dim: int = 3 * 32 * 32, hidden_dim_1: int = 100,
                 hidden_dim_2: int = 100, num_classes: int = 10, weight_scale: float = 1e-2,
                 reg: float = 0.0) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.reg = reg
        ### BEGIN SOLUTION
        dims = [input_dim, hidden_dim_1, hidden_dim_2, num_classes]
        for layer in range(1, 4):
            self.params[f"theta{layer}"] = weight_scale * np.random.randn(dims[layer - 1],
                                                                          dims[layer])
            self.params[f"theta{layer}_0"] = np.zeros(dims[layer])
        ### END SOLUTION

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        """Scores (m, C) when ``y`` is None, else ``(loss, grads)`` keyed like ``params``."""
        ### BEGIN SOLUTION
        p = self.params
        out, caches = X, []
        for layer in (1, 2):
            out, cache = affine_relu_forward(out, p[f"theta{layer}"], p[f"theta{layer}_0"])
            caches.append(cache)
        scores, scores_cache = affine_forward(out, p["theta3"], p["theta3_0"])
        if y is None:
            return scores
        data_loss, dout = softmax_loss(scores, y)
        weights = ("theta1", "theta2", "theta3")
        loss = data_loss + 0.5 * self.reg * sum(np.sum(p[name] ** 2) for name in weights)
        grads = {}
        dout, grads["theta3"], grads["theta3_0"] = affine_backward(dout, scores_cache)
        for layer in (2, 1):
            dout, grads[f"theta{layer}"], grads[f"theta{layer}_0"] = affine_relu_backward(
                dout, caches[layer - 1])
        for name in weights:
            grads[name] += self.reg * p[name]
        ### END SOLUTION
        return float(loss), grads


def keras_cifar_mlp() -> Any:
    """The notebook's Keras MLP for CIFAR-10: Flatten (32, 32, 3), Dense(100, sigmoid),
    Dropout(0.25), Dense(100, sigmoid), Dense(10, softmax), compiled with Adam(1e-4) and
    categorical cross-entropy: 318,410 parameters."""
    from tensorflow import keras

    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Flatten(),
        keras.layers.Dense(100, activation="sigmoid"),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(100, activation="sigmoid"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    ### END SOLUTION
    return model


def neural_net_model(learning_rate: float = 0.01, dropout_rate: float = 0.2,
                     activation: str = "relu", n_units: int = 512) -> Any:
    """A Keras MLP for MNIST (784 inputs): three blocks of Dense(n_units), the activation
    and Dropout(dropout_rate), then Dense(10, softmax), compiled with Adam at
    ``learning_rate``. Every argument must take effect: the tuning grid tries them all."""
    from tensorflow import keras

    ### BEGIN SOLUTION
    layers: list[Any] = [keras.Input(shape=(784,))]
    for _ in range(3):
        layers += [keras.layers.Dense(n_units), keras.layers.Activation(activation),
                   keras.layers.Dropout(dropout_rate)]
    model = keras.Sequential([*layers, keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    ### END SOLUTION
    return model


def keras_labels(X: np.ndarray, model: Any) -> np.ndarray:
    """The class a trained Keras model gives each image of X (given): how the grader asks
    the notebook's Keras models for their predictions."""
    return np.argmax(model.predict(X.reshape(len(X), -1), verbose=0), axis=1)
