"""Packages with lazy exports give the documented objects, whatever was imported before."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest


@pytest.mark.parametrize("package", ["cinestudio.cameraclip", "cinestudio.camerasim", "cinestudio.storyboard",
                                     "cinestudio.cameradiff"])
def test_no_export_turns_into_a_module_once_the_submodules_load(package):
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{package}.{info.name}")   # binds each submodule's name on pkg
    assert pkg.__all__
    modules = [n for n in pkg.__all__ if isinstance(getattr(pkg, n), types.ModuleType)]
    assert not modules, f"{package} exports modules where it documents objects: {modules}"


def test_cameradiff_functions_named_like_their_modules_come_from_the_modules():
    from cinestudio.cameradiff.compose import compose
    from cinestudio.cameradiff.render import render
    from cinestudio.cameradiff.train_base import train_base
    from cinestudio.cameradiff.train_lora import train_lora

    assert all(callable(f) for f in (compose, render, train_base, train_lora))
