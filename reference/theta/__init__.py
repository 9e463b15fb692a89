"""The theta-named multi-layer nets (seed 004): layers, loss, TwoLayerNet and ThreeLayerNet."""
