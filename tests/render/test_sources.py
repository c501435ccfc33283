"""Source digests read once per install (render/sources.py): the same digest as computed from
the source, read back from the cache without reading the source again, computed again when the
library's file changes; functions outside site-packages never cached."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from weasyprint.css import get_all_computed_styles
from weasyprint.formatting_structure.boxes import FootnoteAreaBox

from briefing.render import sources


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache file of this test's own, nothing known yet."""
    file = tmp_path / "cache" / "sources.json"
    monkeypatch.setattr(sources, "FILE", file)
    monkeypatch.setattr(sources, "_known", None)
    yield file


def no_source(*args: Any) -> str:
    raise AssertionError("the source was read again")


def test_a_library_digest_is_kept_and_read_back(cache: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # neither replaced by a repair (a replaced one is briefing's, not the library's)
    for obj in (get_all_computed_styles, FootnoteAreaBox):
        assert sources.source_digest(obj) == sources.computed_digest(obj)
    kept = json.loads(cache.read_text(encoding="utf-8"))
    assert len(kept) == 2
    assert all("weasyprint" in key for key in kept)
    # a new process: the file read, no source read
    monkeypatch.setattr(sources, "_known", None)
    monkeypatch.setattr(inspect, "getsource", no_source)
    assert sources.source_digest(FootnoteAreaBox) == kept[sources._where(FootnoteAreaBox)]


def test_a_changed_file_is_read_again(cache: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    library = tmp_path / "site-packages"
    library.mkdir()
    monkeypatch.setattr(sources.sysconfig, "get_paths", lambda: {"purelib": str(library)})
    monkeypatch.syspath_prepend(str(library))
    module = library / "upgraded_library.py"
    module.write_text("def layout():\n    return 1\n", encoding="utf-8")
    first = sources.source_digest(importlib.import_module("upgraded_library").layout)
    module.write_text("def layout():\n    return 2  # fixed\n", encoding="utf-8")
    os.utime(module, ns=(1, 1))
    sys.modules.pop("upgraded_library")
    second = sources.source_digest(importlib.import_module("upgraded_library").layout)
    sys.modules.pop("upgraded_library")
    assert first is not None and second is not None and first != second
    assert len(json.loads(cache.read_text(encoding="utf-8"))) == 2


def test_other_functions_are_not_kept(cache: Path) -> None:
    assert sources.source_digest(no_source) == sources.computed_digest(no_source)
    assert not cache.exists()


def test_an_unwritable_cache_still_gives_the_digest(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setattr(sources, "FILE", blocked / "sources.json")  # a file as its folder
    monkeypatch.setattr(sources, "_known", None)
    assert (sources.source_digest(get_all_computed_styles)
            == sources.computed_digest(get_all_computed_styles))
