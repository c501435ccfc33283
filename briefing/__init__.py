"""briefing: printable briefing documents from YAML and Markdown to merged, navigable PDF.

The names below are imported when first used, so `import briefing` (and a `check`, which never
lays anything out) does not pay for the build machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from briefing.api import BuildResult, CheckResult, build, check, find_project
    from briefing.errors import BriefingError, Problem
    from briefing.jobs.outputs import Output

_LAZY = {
    "BuildResult": "briefing.api", "CheckResult": "briefing.api", "build": "briefing.api",
    "check": "briefing.api", "find_project": "briefing.api",
    "BriefingError": "briefing.errors", "Problem": "briefing.errors",
    "Output": "briefing.jobs.outputs",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'briefing' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BriefingError",
    "BuildResult",
    "CheckResult",
    "Output",
    "Problem",
    "__version__",
    "build",
    "check",
    "find_project",
]
