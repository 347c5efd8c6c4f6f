"""Route modules of capabilities beyond reading (review, tags, claims, ...).

Each module here exports `register(app, case, page)`; `create_app` finds them by listing this
package, so a capability adds its pages without editing app.py. Templates go in ../templates.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def route_modules() -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(__path__))
    modules = [importlib.import_module(f"{__name__}.{name}") for name in names]
    return [module for module in modules if hasattr(module, "register")]
