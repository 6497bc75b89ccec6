"""The PySide6 GUI (imports neither torch nor the model packages)."""
