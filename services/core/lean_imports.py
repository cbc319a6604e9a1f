"""Libraries imported without the optional parts they would load and we never use.

python-box loads its YAML, TOML and msgpack converters, requests and Beautiful Soup
their character-set guessers (charset_normalizer, chardet), and Beautiful Soup its CSS
selector engine (soupsieve), whenever those are installed: megabytes in every proxy
worker for code no service runs. ``lean_import`` imports the library while those
modules read as not installed, so the library falls back as it does where they are
missing; whoever imports one of them directly later still gets it. Our HTTP client
reads an answer in the charset it declares, else as UTF-8 (services/core/http.py), and
we hand Beautiful Soup text, never bytes to guess at, and no CSS selectors.
"""

from __future__ import annotations

import importlib
import sys
import threading
import warnings
from collections.abc import Iterable
from types import ModuleType

_GUESSERS = ("charset_normalizer", "chardet", "cchardet")
UNUSED_PARTS: dict[str, tuple[str, ...]] = {
    "box": ("yaml", "ruamel", "ruamel.yaml", "tomli_w", "toml", "msgpack", "toon_format"),
    "requests": _GUESSERS,
    "bs4": ("soupsieve", *_GUESSERS),
}


def lean_import(name: str) -> ModuleType:
    """``name``, one of ``UNUSED_PARTS``, imported (once) without its unused parts.
    Call it before importing the library, or a library built on it (markdownify)."""
    return import_without(name, UNUSED_PARTS[name])


# One such import at a time: events on other threads may ask for another library
# meanwhile, and neither may unblock what the other still needs blocked.
_importing = threading.RLock()


def import_without(name: str, unused: Iterable[str]) -> ModuleType:
    """Import ``name`` (once) as if the modules ``unused`` were not installed."""
    with _importing:
        loaded = sys.modules.get(name)
        if loaded is not None:
            return loaded
        blocked = [module for module in unused if module not in sys.modules]
        for module in blocked:  # None in sys.modules: an import fails as if not installed
            sys.modules[module] = None  # type: ignore[assignment]
        try:
            with warnings.catch_warnings():  # "not installed" warnings about them
                warnings.simplefilter("ignore")
                return importlib.import_module(name)
        finally:
            for module in blocked:
                if module in sys.modules and sys.modules[module] is None:
                    del sys.modules[module]
