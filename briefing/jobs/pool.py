"""The local process pool, imported only when a build runs workers (`-j 2` and more): a build
in one process does not load multiprocessing's pool machinery (about 10 ms)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


class LocalPool(ProcessPoolExecutor):
    """A ProcessPoolExecutor whose workers say which job they start (`started`, given to
    `initializer`), and whose processes can be listed (`processes`), so a dead worker's job
    can be named."""

    def __init__(self, workers: int, initializer: Callable[[Any], None]):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.started = context.SimpleQueue()
        super().__init__(max_workers=workers, mp_context=context, initializer=initializer,
                         initargs=(self.started,))

    @property
    def processes(self) -> dict[int, Any]:
        return dict(getattr(self, "_processes", None) or {})
