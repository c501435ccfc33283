"""briefing: printable briefing documents from YAML and Markdown to merged, navigable PDF."""

__version__ = "0.1.0"

from .api import BuildResult, CheckResult, Output, build, check, find_project
from .errors import BriefingError, Problem

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
