"""Reference solutions for the CS231n-flavoured API (the package students call ``cs231n``)."""
