"""Errors the book raises for bad or missing data; each message says what is wrong and how to fix it."""
from __future__ import annotations


class MMSADataError(ValueError):
    """Data that does not have the expected structure (missing key, wrong shape, NaN ...)."""


class UnsafePickleError(MMSADataError):
    """A pickle that would build objects other than arrays, numbers, strings and containers."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset that is not under the data root; the message lists where it was looked for."""
