"""The PySide6 GUI (imports neither torch nor the model packages)."""

from cinestudio.gui import _none_refcount

_none_refcount.install()   # PySide6 6.12 + CPython 3.11 lose references to None (see the module)
