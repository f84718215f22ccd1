"""Import only the provider SDK modules a program uses.

``pulumi_gcp.storage`` (like every subpackage of the generated SDKs) imports all of its resource
modules in its ``__init__``: ~40 for storage, where the program needs ``Bucket`` and
``BucketIAMMember``. :func:`sdk` loads just the named modules (plus the package's shared input
and output types) and hands back their public names.

Invariant: nothing else in the process can tell. The package object put in ``sys.modules`` is a
:class:`_ThinPackage`: the first time anyone asks it for a name it has not loaded (``from
pulumi_gcp import storage; storage.Notification``), it runs the real ``__init__`` and then
answers like the ordinary package.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

_SHARED = ("_inputs", "outputs")


class _ThinPackage(ModuleType):
    """A package whose ``__init__`` runs only when a name it lacks is asked for."""

    _flowyml_complete = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or self._flowyml_complete or self._is_submodule(name):
            # A submodule is the import system's to load (``from . import outputs`` asks for
            # it first): completing the package then would run it half-initialised.
            raise AttributeError(name)
        self._flowyml_complete = True
        spec = self.__spec__
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(self)
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    def _is_submodule(self, name: str) -> bool:
        return any(
            (Path(entry) / f"{name}.py").is_file() or (Path(entry) / name).is_dir()
            for entry in self.__path__
        )


def _thin(package: str) -> ModuleType:
    existing = sys.modules.get(package)
    # The SDK root registers each subpackage as an unloaded lazy module; a loaded one (or one
    # of ours) is used as it is.
    if existing is not None and type(existing).__name__ != "_LazyModule":
        return existing
    parent_name, _, child = package.rpartition(".")
    parent = importlib.import_module(parent_name)
    spec = importlib.machinery.PathFinder.find_spec(package, parent.__path__)
    if spec is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"No module named {package!r}", name=package)
    module = _ThinPackage(package)
    module.__spec__ = spec
    module.__path__ = list(spec.submodule_search_locations)
    module.__package__ = package
    module.__file__ = spec.origin
    module.__loader__ = spec.loader
    sys.modules[package] = module
    setattr(parent, child, module)
    return module


def sdk(package: str, *modules: str) -> Any:
    """The public names of ``package``'s ``modules`` and its shared input/output types.

    Args:
        package: An SDK subpackage, e.g. ``"pulumi_gcp.sql"``.
        modules: Its resource modules to load, e.g. ``"database_instance", "user"``.

    Returns:
        A namespace: ``sdk("pulumi_gcp.sql", "user").User``.
    """
    _thin(package)
    names: dict[str, Any] = {}
    for name in (*modules, *_SHARED):
        module = importlib.import_module(f"{package}.{name}")
        exported = getattr(module, "__all__", None)
        if exported is None:
            exported = [n for n in vars(module) if not n.startswith("_")]
        names.update({n: getattr(module, n) for n in exported})
    return SimpleNamespace(**names)
