"""briefing: printable briefing documents from YAML and Markdown to merged, navigable PDF."""

__version__ = "0.1.0"

from briefing.api import BuildResult, CheckResult, build, check, find_project
from briefing.errors import BriefingError, Problem
from briefing.jobs.outputs import Output

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
