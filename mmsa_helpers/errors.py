"""Errors the book raises for bad input; each message says what is wrong, where, and how to fix it.

Every error meant for the user (not a bug in the book's code) is a :class:`UserError`:

- :class:`ConfigError`: an unknown name (dataset, model, metric rules) or a bad setting value;
- :class:`SettingError`: a setting name that does not exist (a ``TypeError``, like Python's
  own error for an unexpected keyword argument);
- :class:`MMSADataError` (and :class:`UnsafePickleError`): data that does not have the
  expected structure or values;
- :class:`DatasetNotFoundError`: a dataset or data file that is not where it was looked for.

The command line (``python -m mmsa_helpers``) prints a ``UserError`` as one ``error: ...``
message and exits with status 2; any other exception is a bug: it shows its traceback and
exits with status 1. Each class also derives from the built-in exception it used to be
(``ValueError``, ``TypeError``, ``FileNotFoundError``), so ``except ValueError`` still works.
"""
from __future__ import annotations


class UserError(Exception):
    """A mistake in what the user asked for or gave the book; the message says how to fix it."""


class ConfigError(UserError, ValueError):
    """An unknown name (dataset, model ...) or a setting with a value that cannot work."""


class SettingError(UserError, TypeError):
    """A setting that does not exist (e.g. ``--set epochz=3`` or ``create("tfn", epochz=3)``)."""


class MMSADataError(UserError, ValueError):
    """Data that does not have the expected structure (missing key, wrong shape, NaN ...)."""


class UnsafePickleError(MMSADataError):
    """A pickle that would build objects other than arrays, numbers, strings and containers."""


class DatasetNotFoundError(UserError, FileNotFoundError):
    """A dataset (or data file) that is not where it was looked for; the message lists the paths."""
