"""Readers of raw config values: files, run records, W&B runs."""
