"""Layers in the CS231n functional style.

Every forward returns ``(out, cache)`` and every backward takes ``(dout, cache)``.
The layers never write into their inputs (arrays or caches); the only state they
update is the running statistics in ``bn_param``, which the assignments require.
Outputs keep the input dtype so float32 and float64 pipelines both work.
"""

from typing import Any

import numpy as np

Cache = tuple[Any, ...]


# ---------------------------------------------------------------- affine and ReLU


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Compute ``x.reshape(N, D) @ w + b`` for x of shape (N, d_1, ..., d_k)."""
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)
    ### END SOLUTION


def affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(dx, dw, db)``; dx has the original (unflattened) shape of x."""
    ### BEGIN SOLUTION
    x, w, _ = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
    ### END SOLUTION


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise ``max(0, x)``."""
    ### BEGIN SOLUTION
    return np.maximum(x, 0), x
    ### END SOLUTION


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Pass the gradient where the input was positive (the kink at 0 gets gradient 0)."""
    ### BEGIN SOLUTION
    return dout * (cache > 0)
    ### END SOLUTION


# ---------------------------------------------------------------- losses


def svm_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Multiclass hinge loss (margin 1) averaged over N; returns ``(loss, dx)``."""
    ### BEGIN SOLUTION
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    positive[rows, y] = -positive.sum(axis=1)
    return float(loss), positive / N
    ### END SOLUTION


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Cross-entropy of softmax(x) averaged over N.

    Uses log-sum-exp on max-shifted scores so large scores cannot overflow.
    """
    ### BEGIN SOLUTION
    N = x.shape[0]
    rows = np.arange(N)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].sum() / N
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    return float(loss), dx / N
    ### END SOLUTION


# ---------------------------------------------------------------- batch and layer normalisation


### BEGIN SOLUTION
def _normalise(
    x: np.ndarray, mean: np.ndarray, var: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardise x along axis 0; returns the pieces the staged backward pass needs."""
    xc = x - mean
    std = np.sqrt(var + eps)
    return xc / std, xc, std
### END SOLUTION


### BEGIN SOLUTION
def _normalise_backward(dx_hat: np.ndarray, x_hat: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Gradient through :func:`_normalise` in closed form, given the gradient of x_hat."""
    mean_dx_hat = dx_hat.mean(axis=0)
    mean_dx_hat_x_hat = (dx_hat * x_hat).mean(axis=0)
    return (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat) / std
### END SOLUTION


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict[str, Any]
) -> tuple[np.ndarray, Cache | None]:
    """Batch normalisation of x (N, D).

    In ``train`` mode the batch statistics normalise x and the running averages in
    ``bn_param`` are updated as ``momentum * running + (1 - momentum) * batch``; in
    ``test`` mode the running averages are used. The running statistics start as zeros
    of x's dtype and are written back into ``bn_param``.
    """
    ### BEGIN SOLUTION
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        x_hat, xc, std = _normalise(x, mean, var, eps)
        out = gamma * x_hat + beta
        cache = (x_hat, xc, std, gamma)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        x_hat, _, _ = _normalise(x, running_mean, running_var, eps)
        out = gamma * x_hat + beta
        cache = None
    else:
        raise ValueError(
            f"Invalid batchnorm mode {mode!r}: set bn_param['mode'] to 'train' or 'test'."
        )

    bn_param["running_mean"] = running_mean.astype(x.dtype, copy=False)
    bn_param["running_var"] = running_var.astype(x.dtype, copy=False)
    return out.astype(x.dtype, copy=False), cache
    ### END SOLUTION


def batchnorm_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward through the staged graph x -> xc -> var -> std -> x_hat -> out.

    Each step mirrors one node of the computational graph, which is how the
    assignment asks students to derive it first.
    """
    ### BEGIN SOLUTION
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    # x_hat = xc * inv_std
    inv_std = 1.0 / std
    dxc = dx_hat * inv_std
    dinv_std = (dx_hat * xc).sum(axis=0)
    # inv_std = (var + eps) ** -0.5
    dvar = dinv_std * -0.5 * inv_std**3
    # var = mean(xc ** 2)
    dxc = dxc + 2.0 * xc * dvar / N
    # xc = x - mean(x)
    dx = dxc - dxc.sum(axis=0) / N
    return dx, dgamma, dbeta
    ### END SOLUTION


def batchnorm_backward_alt(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward in one simplified expression.

    ``dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / std``, with means over N.
    """
    ### BEGIN SOLUTION
    x_hat, _, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    return _normalise_backward(dout * gamma, x_hat, std), dgamma, dbeta
    ### END SOLUTION


def layernorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ln_param: dict[str, Any]
) -> tuple[np.ndarray, Cache]:
    """Layer normalisation: normalise each sample of x (N, D) over its D features.

    Train and test behave identically, so there are no running statistics. It is
    batch normalisation applied to x.T, which is how the backward pass reuses it.
    """
    ### BEGIN SOLUTION
    eps = ln_param.get("eps", 1e-5)
    xt = x.T
    x_hat_t, _, std = _normalise(xt, xt.mean(axis=0), xt.var(axis=0), eps)
    out = gamma * x_hat_t.T + beta
    return out.astype(x.dtype, copy=False), (x_hat_t.T, std, gamma)
    ### END SOLUTION


def layernorm_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(dx, dgamma, dbeta)`` by running the batchnorm formula on the transpose."""
    ### BEGIN SOLUTION
    x_hat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_t = _normalise_backward((dout * gamma).T, x_hat.T, std)
    return dx_t.T, dgamma, dbeta
    ### END SOLUTION


# ---------------------------------------------------------------- dropout


def dropout_forward(x: np.ndarray, dropout_param: dict[str, Any]) -> tuple[np.ndarray, Cache]:
    """Inverted dropout: keep each unit with probability ``p`` and scale kept units by 1/p.

    ``p`` is the KEEP probability (gradekit's canonical convention: a course that reads it as
    the drop probability says so in its README). In ``test`` mode the input passes through
    unchanged.
    If ``seed`` is present the global NumPy RNG is reseeded, as the notebooks expect.
    """
    ### BEGIN SOLUTION
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype)
        out = x * mask
    elif mode == "test":
        mask = None
        out = x.copy()
    else:
        raise ValueError(
            f"Invalid dropout mode {mode!r}: set dropout_param['mode'] to 'train' or 'test'."
        )
    return out, (dropout_param, mask)
    ### END SOLUTION


def dropout_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Route the gradient through the kept units, with the same 1/p scaling."""
    ### BEGIN SOLUTION
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout.copy()
    ### END SOLUTION


# ---------------------------------------------------------------- convolution and pooling


### BEGIN SOLUTION
def _pad_spatial(x: np.ndarray, pad: int) -> np.ndarray:
    """Zero-pad the last two (spatial) axes of an (N, C, H, W) array."""
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
### END SOLUTION


def conv_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict[str, int]
) -> tuple[np.ndarray, Cache]:
    """Naive convolution (really cross-correlation) of x (N,C,H,W) with filters w (F,C,HH,WW).

    Computes every output element with its own loop iteration, as the notebooks' naive
    layer does: this is the slow, obviously correct baseline that the fast layers are
    checked and timed against, so it is deliberately not vectorised. The output spatial
    size is ``1 + (H + 2*pad - HH) // stride`` (likewise for width); a border that the
    stride does not reach is ignored.
    """
    ### BEGIN SOLUTION
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = _pad_spatial(x, pad)
    out = np.empty((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for n, f, i, j in np.ndindex(out.shape):
        top, left = i * stride, j * stride
        window = x_pad[n, :, top : top + HH, left : left + WW]
        out[n, f, i, j] = (window * w[f]).sum() + b[f]
    return out, (x, w, b, conv_param)
    ### END SOLUTION


def conv_backward_naive(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(dx, dw, db)``, sending each output element's gradient back to its window."""
    ### BEGIN SOLUTION
    x, w, _, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    x_pad = _pad_spatial(x, pad)
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, dout))
    dw = np.zeros_like(w, dtype=np.result_type(w, dout))
    for n, f, i, j in np.ndindex(dout.shape):
        top, left = i * stride, j * stride
        rows, cols = slice(top, top + HH), slice(left, left + WW)
        dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
        dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    db = dout.sum(axis=(0, 2, 3))
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, db
    ### END SOLUTION


def max_pool_forward_naive(x: np.ndarray, pool_param: dict[str, int]) -> tuple[np.ndarray, Cache]:
    """Max pooling over (pool_height, pool_width) windows taken every ``stride`` pixels.

    One loop iteration per output element, like :func:`conv_forward_naive`. Pools need
    not tile the input: the output has ``1 + (H - pool_height) // stride`` rows
    (likewise columns) and any remainder at the border is ignored.
    """
    ### BEGIN SOLUTION
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    out = np.empty((N, C, 1 + (H - ph) // stride, 1 + (W - pw) // stride), dtype=x.dtype)
    for n, c, i, j in np.ndindex(out.shape):
        top, left = i * stride, j * stride
        out[n, c, i, j] = x[n, c, top : top + ph, left : left + pw].max()
    return out, (x, pool_param)
    ### END SOLUTION


def max_pool_backward_naive(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Route each window's gradient to its maximum.

    When a window holds several equal maxima, the whole gradient goes to ONE of
    them: the first in row-major order (the one ``argmax`` picks). Overlapping
    windows accumulate.
    """
    ### BEGIN SOLUTION
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for n, c, i, j in np.ndindex(dout.shape):
        top, left = i * stride, j * stride
        window = x[n, c, top : top + ph, left : left + pw]
        row, col = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, top + row, left + col] += dout[n, c, i, j]
    return dx
    ### END SOLUTION


# ---------------------------------------------------------------- spatial normalisation


### BEGIN SOLUTION
def _channels_last(x: np.ndarray) -> np.ndarray:
    """(N,C,H,W) -> (N*H*W, C) so each channel becomes one batchnorm feature."""
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
### END SOLUTION


### BEGIN SOLUTION
def _channels_first(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_channels_last`."""
    N, C, H, W = shape
    return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
### END SOLUTION


def spatial_batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict[str, Any]
) -> tuple[np.ndarray, Cache | None]:
    """Batch normalisation per channel of x (N,C,H,W), statistics over N, H and W."""
    ### BEGIN SOLUTION
    out, cache = batchnorm_forward(_channels_last(x), gamma, beta, bn_param)
    return _channels_first(out, x.shape), cache
    ### END SOLUTION


def spatial_batchnorm_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(dx, dgamma, dbeta)`` with dgamma/dbeta shaped (C,)."""
    ### BEGIN SOLUTION
    dx, dgamma, dbeta = batchnorm_backward_alt(_channels_last(dout), cache)
    return _channels_first(dx, dout.shape), dgamma, dbeta
    ### END SOLUTION


def spatial_groupnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, G: int, gn_param: dict[str, Any]
) -> tuple[np.ndarray, Cache]:
    """Group normalisation: normalise each sample over G groups of C/G channels (and H, W).

    gamma and beta are shaped (1, C, 1, 1) as in CS231n.
    """
    ### BEGIN SOLUTION
    eps = gn_param.get("eps", 1e-5)
    N, C = x.shape[:2]
    if C % G:
        raise ValueError(f"Group norm needs C divisible by G; got C={C}, G={G}. Pick G dividing C.")
    groups = x.reshape(N * G, -1).T  # one column per (sample, group)
    x_hat_t, _, std = _normalise(groups, groups.mean(axis=0), groups.var(axis=0), eps)
    x_hat = x_hat_t.T.reshape(x.shape)
    out = gamma * x_hat + beta
    return out.astype(x.dtype, copy=False), (x_hat, std, gamma, G)
    ### END SOLUTION


def spatial_groupnorm_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(dx, dgamma, dbeta)``; dgamma and dbeta have gamma's (1, C, 1, 1) shape."""
    ### BEGIN SOLUTION
    x_hat, std, gamma, G = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dx_t = _normalise_backward((dout * gamma).reshape(N * G, -1).T, x_hat.reshape(N * G, -1).T, std)
    return dx_t.T.reshape(dout.shape), dgamma, dbeta
    ### END SOLUTION
