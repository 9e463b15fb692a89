"""ASU Deep Learning for Visual Computing, Assignment 3 (seed 003): feature-major MNIST nets."""
