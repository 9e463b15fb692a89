"""The model classes, built from the package's layers."""
