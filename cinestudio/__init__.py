"""CineStudio: teach video generators the language of cinematographers."""

__version__ = "0.1.0"
