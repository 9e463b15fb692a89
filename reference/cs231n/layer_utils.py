"""Layer "sandwiches": common stacks of layers as one forward/backward pair.

Each sandwich only chains layer functions; its cache is the tuple of the inner caches,
unwound in reverse by the backward pass. The conv sandwiches use the fast conv and pool
layers of ``fast_layers.py``, as the course's own ``layer_utils.py`` does, so a
ThreeLayerConvNet trains at notebook scale; the naive layers in ``layers.py`` are checked
against the fast ones.
"""

from typing import Any

import numpy as np

from .fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from .layers import (
    Cache,
    affine_backward,
    affine_forward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)

Grads = tuple[np.ndarray, np.ndarray, np.ndarray]
NormGrads = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

_NORMS = {
    "batchnorm": (batchnorm_forward, batchnorm_backward_alt),
    "layernorm": (layernorm_forward, layernorm_backward),
}


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """affine -> ReLU."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: np.ndarray, cache: Cache) -> Grads:
    """Return ``(dx, dw, db)`` for :func:`affine_relu_forward`."""
    fc_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)


def affine_norm_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    norm_param: dict[str, Any],
    normalization: str,
) -> tuple[np.ndarray, Cache]:
    """affine -> batchnorm or layernorm -> ReLU, as used by ``FullyConnectedNet``.

    ``normalization`` is ``"batchnorm"`` or ``"layernorm"``; ``norm_param`` is the
    matching ``bn_param`` / ``ln_param`` dict.
    """
    if normalization not in _NORMS:
        raise ValueError(f"Unknown normalization {normalization!r}: use one of {sorted(_NORMS)}.")
    norm_forward, _ = _NORMS[normalization]
    a, fc_cache = affine_forward(x, w, b)
    n, norm_cache = norm_forward(a, gamma, beta, norm_param)
    out, relu_cache = relu_forward(n)
    return out, (fc_cache, norm_cache, relu_cache, normalization)


def affine_norm_relu_backward(dout: np.ndarray, cache: Cache) -> NormGrads:
    """Return ``(dx, dw, db, dgamma, dbeta)`` for :func:`affine_norm_relu_forward`."""
    fc_cache, norm_cache, relu_cache, normalization = cache
    _, norm_backward = _NORMS[normalization]
    dn = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = norm_backward(dn, norm_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


def conv_relu_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict[str, int]
) -> tuple[np.ndarray, Cache]:
    """conv -> ReLU."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout: np.ndarray, cache: Cache) -> Grads:
    """Return ``(dx, dw, db)`` for :func:`conv_relu_forward`."""
    conv_cache, relu_cache = cache
    return conv_backward_fast(relu_backward(dout, relu_cache), conv_cache)


def conv_relu_pool_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    conv_param: dict[str, int],
    pool_param: dict[str, int],
) -> tuple[np.ndarray, Cache]:
    """conv -> ReLU -> max pool."""
    a, conv_relu_cache = conv_relu_forward(x, w, b, conv_param)
    out, pool_cache = max_pool_forward_fast(a, pool_param)
    return out, (conv_relu_cache, pool_cache)


def conv_relu_pool_backward(dout: np.ndarray, cache: Cache) -> Grads:
    """Return ``(dx, dw, db)`` for :func:`conv_relu_pool_forward`."""
    conv_relu_cache, pool_cache = cache
    return conv_relu_backward(max_pool_backward_fast(dout, pool_cache), conv_relu_cache)


def conv_bn_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    conv_param: dict[str, int],
    bn_param: dict[str, Any],
) -> tuple[np.ndarray, Cache]:
    """conv -> spatial batchnorm -> ReLU."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout: np.ndarray, cache: Cache) -> NormGrads:
    """Return ``(dx, dw, db, dgamma, dbeta)`` for :func:`conv_bn_relu_forward`."""
    conv_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db, dgamma, dbeta
