"""Accolade: an engagement engine for B2B programs."""

__version__ = "0.1.0"
