"""The assignment's package: layers, update rules, classifiers and the helpers they use."""
