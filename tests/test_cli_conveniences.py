"""The command line's conveniences: options after the command, progress counts, no empty table,
failures named once and in full, stale copies removed, any recipients file, any name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from briefing.api import SMALL_BUILD, auto_workers
from briefing.jobs.pack import recipient_stem
from briefing.source.pack import read_recipients

from conftest import MINIMAL, run_briefing, write_project

PACK = """\
title: A pack
items:
  - document: ../brief.yaml
recipients: recipients.csv
"""


def pack_project(root: Path, recipients: str) -> Path:
    return write_project(root, {
        "content/brief.yaml": MINIMAL,
        "content/packs/pack.yaml": PACK,
        "content/packs/recipients.csv": recipients,
    })


def copies(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "out" / "packs" / "pack").glob("*.pdf"))


def test_log_options_after_the_command(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"content/brief.yaml": MINIMAL})
    checked = run_briefing("check", "-v", cwd=project)
    assert checked.returncode == 0, checked.stderr
    broken = write_project(tmp_path / "broken", {"content/brief.yaml": "title: [x\n"})
    built = run_briefing("build", "--debug", "-v", cwd=broken)
    assert built.returncode == 1 and "No such option" not in built.stderr


def test_progress_counts_and_no_empty_table(tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "content/a.yaml": MINIMAL, "content/b.yaml": "title: [broken\n"})
    done = run_briefing("build", cwd=project)
    assert done.returncode == 1
    assert re.search(r"^\[1/2\] content/a\.yaml: 1 output\(s\)", done.stderr, re.M)
    assert re.search(r"^\[2/2\] content/b\.yaml: failed", done.stderr, re.M)
    only_broken = write_project(tmp_path / "none", {"content/b.yaml": "title: [broken\n"})
    nothing = run_briefing("build", cwd=only_broken)
    assert nothing.returncode == 1
    assert nothing.stdout == ""  # no table header over nothing
    assert nothing.stderr.count("content/b.yaml") == 3  # progress, problem, summary


def test_every_over_budget_copy_named_and_the_pack_once(tmp_path: Path) -> None:
    rows = "".join(f"Person {i},Org {i},p{i}@example.org\n" for i in range(5))
    project = pack_project(tmp_path, "name,organisation,email\n" + rows)
    done = run_briefing("build", "content/packs/pack.yaml", "--profile", "email",
                        "--email-budget", "0.01", "-j", "2", cwd=project)
    assert done.returncode == 1
    over = re.findall(r"^(out/packs/pack/person-\d\.pdf): .*over the", done.stderr, re.M)
    assert len(over) == 5, done.stderr  # every copy, from every chunk
    summary = done.stderr.strip().splitlines()[-1]
    assert summary.count("content/packs/pack.yaml") == 1, summary


def test_stale_copies_are_removed_and_listed(tmp_path: Path) -> None:
    project = pack_project(tmp_path, "name,organisation\nAlex A,X\nSam S,Y\nKim K,Z\n")
    first = run_briefing("build", "content/packs/pack.yaml", cwd=project)
    assert first.returncode == 0, first.stderr
    assert copies(project) == ["alex-a.pdf", "kim-k.pdf", "sam-s.pdf"]
    unrelated = project / "out" / "packs" / "pack" / "notes.txt"
    unrelated.write_text("mine", encoding="utf-8")
    (project / "content/packs/recipients.csv").write_text("name,organisation\nAlex A,X\n",
                                                           encoding="utf-8")
    second = run_briefing("build", "content/packs/pack.yaml", cwd=project)
    assert second.returncode == 0, second.stderr
    assert copies(project) == ["alex-a.pdf"]
    assert "removed 2 copy(ies) of recipients no longer in the recipients file" in second.stderr
    assert "out/packs/pack/kim-k.pdf" in second.stderr
    assert "out/packs/pack/sam-s.pdf" in second.stderr
    assert unrelated.read_text(encoding="utf-8") == "mine"
    manifest = (project / "out/packs/pack/manifest.csv").read_text(encoding="utf-8")
    assert "Sam S" not in manifest


@pytest.mark.parametrize("separator", [";", "\t", ","])
def test_recipients_separated_by_semicolons_or_tabs(tmp_path: Path, separator: str) -> None:
    text = separator.join(["name", "organisation", "email"]) + "\n" + separator.join(
        ["Zoë Müller", "Verein, e.V.", "zoe@example.org"]) + "\n"
    if separator == ",":
        text = text.replace("Verein, e.V.", '"Verein, e.V."')
    path = tmp_path / "recipients.csv"
    path.write_text(text, encoding="utf-8")
    [recipient] = read_recipients(path, "recipients.csv")
    assert (recipient.name, recipient.organisation) == ("Zoë Müller", "Verein, e.V.")


def test_recipient_file_names_in_any_script() -> None:
    assert recipient_stem("សុខ ចាន់") == "sukh-caan"
    assert recipient_stem("王小明") == "wang-xiao-ming"
    assert recipient_stem("محمد علي") == "mhmd-ly"
    # nothing to transliterate: a stable name, different for each recipient
    assert recipient_stem("😀") == recipient_stem("😀")
    assert recipient_stem("😀") != recipient_stem("🙂")
    assert re.fullmatch(r"recipient-[0-9a-f]{8}", recipient_stem("😀"))


def test_pack_copies_for_names_in_other_scripts(tmp_path: Path) -> None:
    project = pack_project(tmp_path, "name,organisation\nសុខ ចាន់,A\n王小明,B\n😀,C\n🙂,D\n")
    done = run_briefing("build", "content/packs/pack.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    names = copies(project)
    assert "sukh-caan.pdf" in names and "wang-xiao-ming.pdf" in names
    assert len([n for n in names if n.startswith("recipient-")]) == 2


def test_handout_layout_as_an_option(tmp_path: Path) -> None:
    long = MINIMAL.replace("A document made in a test.", "A document made in a test. " * 130)
    project = write_project(tmp_path, {"content/brief.yaml": long})
    done = run_briefing("build", "--out", str(tmp_path / "pages"), cwd=project)
    assert done.returncode == 0, done.stderr
    pages = len(PdfReader(tmp_path / "pages" / "brief.pdf").pages)
    assert pages == 3  # cover and two body pages
    for layout, per_sheet in (("2-up", 2), ("4-up", 4)):
        out = tmp_path / layout
        done = run_briefing("build", "--profile", "handout", "--handout", layout,
                            "--out", str(out), cwd=project)
        assert done.returncode == 0, done.stderr
        sheets = len(PdfReader(out / "brief.pdf").pages)
        # the 3 pages: two sheets 2-up, one sheet 4-up
        assert sheets == -(-pages // per_sheet), (layout, sheets)
    two = PdfReader(tmp_path / "2-up" / "brief.pdf").pages[0]
    four = PdfReader(tmp_path / "4-up" / "brief.pdf").pages[0]
    # 2-up is landscape (two portrait pages side by side), 4-up portrait
    assert float(two.mediabox.width) > float(two.mediabox.height)
    assert float(four.mediabox.width) < float(four.mediabox.height)


def test_default_workers_never_start_processes_for_a_small_build() -> None:
    assert auto_workers(1) == 1
    assert auto_workers(SMALL_BUILD) == 1
    assert auto_workers(SMALL_BUILD + 5) >= 1
