"""Show a stack of images (conv filters, say) as one grid, for the notebooks' pictures."""

from math import ceil, sqrt

import numpy as np


def visualize_grid(Xs: np.ndarray, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """Tile ``Xs`` (N, H, W, C) into one (G, G, C) image, each tile scaled to [0, ubound]
    on its own and ``padding`` pixels apart, as ``plt.imshow(grid.astype('uint8'))`` shows."""
    N, H, W, C = Xs.shape
    side = ceil(sqrt(N))
    size = side * (H + padding) - padding, side * (W + padding) - padding
    grid = np.zeros((*size, C))
    for index, image in enumerate(Xs):
        row, col = divmod(index, side)
        low, high = image.min(), image.max()
        scaled = ubound * (image - low) / (high - low) if high > low else np.zeros_like(image)
        top, left = row * (H + padding), col * (W + padding)
        grid[top:top + H, left:left + W] = scaled
    return grid
