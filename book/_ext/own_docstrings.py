"""Keep the API page to the package's own documentation.

Sphinx's autodoc documents a method without a docstring when a base class has
one (``autodoc_inherit_docstrings``). For the networks that meant PyTorch's
``Module.forward`` text, "Define the computation performed at every call.
Should be overridden by all subclasses." and its Note, under some two dozen
``forward`` methods of the API reference. This extension leaves out a method
whose only docstring is inherited from a class outside ``mmsa_helpers``; a
method that inherits the package's own docstring (a ``training_step`` from
``mmsa_helpers.training``) stays.
"""
from __future__ import annotations

import inspect
import sys

PACKAGE = "mmsa_helpers"


def owning_class(obj) -> type | None:
    """The class a function was defined in, found from its qualified name."""
    func = getattr(obj, "__func__", obj)
    module = sys.modules.get(getattr(func, "__module__", None) or "")
    parts = (getattr(func, "__qualname__", "") or "").split(".")
    if module is None or len(parts) < 2 or "<locals>" in parts:
        return None
    owner = module
    for part in parts[:-1]:
        owner = getattr(owner, part, None)
    return owner if inspect.isclass(owner) else None


def doc_only_from_outside(name: str, obj) -> bool:
    """True for a package method with no docstring of its own whose inherited
    docstring comes from a class outside the package (PyTorch, pickle)."""
    func = getattr(obj, "__func__", obj)
    if not callable(func) or getattr(func, "__doc__", None) is not None:
        return False
    if not (getattr(func, "__module__", "") or "").startswith(PACKAGE):
        return False
    cls = owning_class(func)
    if cls is None:
        return False
    for base in cls.__mro__[1:]:
        member = vars(base).get(name)
        doc = getattr(getattr(member, "__func__", member), "__doc__", None)
        if member is not None and doc:
            return not base.__module__.startswith(PACKAGE)
    return False


def skip_foreign_docstring(app, what, name, obj, skip, options):
    if what == "class" and doc_only_from_outside(name, obj):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
