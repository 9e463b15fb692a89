"""Instructor tools: starter code from the reference, golden values, student releases."""
