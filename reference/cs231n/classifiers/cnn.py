"""The three-layer convolutional network of the ConvolutionalNetworks notebook.

W1, W2 and W3 are drawn in that order from NumPy's global generator (biases draw nothing):
the notebook's seeded gradient-check errors are reproduced only with this order.
"""

import numpy as np

from ..layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from ..layers import affine_backward, affine_forward, softmax_loss
from .regularization import l2_penalty

POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    The convolution has stride 1 and pads by ``(filter_size - 1) // 2``, so an odd filter
    keeps the spatial size (an even one loses a row and a column) and the pool halves it,
    dropping an odd last row. Inputs are (N, C, H, W).
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        num_filters: int = 32,
        filter_size: int = 7,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        dtype: type = np.float32,
    ) -> None:
        ### BEGIN SOLUTION
        C, H, W = input_dim
        self.reg = reg
        self.dtype = dtype
        self.conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pad = self.conv_param["pad"]
        conv_height, conv_width = H + 2 * pad - filter_size + 1, W + 2 * pad - filter_size + 1
        pooled_features = num_filters * (conv_height // 2) * (conv_width // 2)
        self.params = {
            "W1": weight_scale * np.random.randn(num_filters, C, filter_size, filter_size),
            "b1": np.zeros(num_filters),
            "W2": weight_scale * np.random.randn(pooled_features, hidden_dim),
            "b2": np.zeros(hidden_dim),
            "W3": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b3": np.zeros(num_classes),
        }
        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)
        ### END SOLUTION

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Class scores (N, C) if ``y`` is None, else ``(loss, grads)``."""
        ### BEGIN SOLUTION
        X = X.astype(self.dtype)
        p = self.params
        pooled, pool_cache = conv_relu_pool_forward(X, p["W1"], p["b1"], self.conv_param,
                                                    POOL_PARAM)
        hidden, hidden_cache = affine_relu_forward(pooled, p["W2"], p["b2"])
        scores, scores_cache = affine_forward(hidden, p["W3"], p["b3"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads: dict[str, np.ndarray] = {}
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, pool_cache)

        penalty, dpenalty = l2_penalty(self.params, ("W1", "W2", "W3"), self.reg)
        for name, dw in dpenalty.items():
            grads[name] = grads[name] + dw
        return loss + penalty, grads
        ### END SOLUTION
