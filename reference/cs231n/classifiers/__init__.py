"""Reference model classes."""
