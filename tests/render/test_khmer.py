"""Khmer and other scripts: fonts, line breaks between words, faithful text, missing glyphs,
hyphenation by language, and translations paired with their original by question id.

One project with an English original, its Khmer translation and a German document is built
once for the module; each test reads the PDFs a reader would get.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import pyphen
import pytest

import briefing
from briefing.source.khmer import missing_glyphs, script_of, segment, segment_html

from conftest import REPO, pdftotext, run_briefing, write_project

#: A paragraph of Khmer long enough to wrap over several lines, with few spaces (Khmer puts
#: spaces between phrases, not words): neutral sentences about the Khmer language.
LONG = (
    "ភាសាខ្មែរគឺជាភាសាផ្លូវការរបស់ព្រះរាជាណាចក្រកម្ពុជា។ "
    "អក្សរខ្មែរសរសេរពីឆ្វេងទៅស្តាំហើយគេមិនដកឃ្លារវាងពាក្យនីមួយៗទេដូច្នេះ"
    "កម្មវិធីបោះពុម្ពត្រូវស្គាល់ពាក្យដើម្បីកាត់បន្ទាត់ឱ្យត្រឹមត្រូវ។ "
    "សាលារៀនបង្រៀនកុមារឱ្យអាននិងសរសេរភាសាខ្មែរនៅគ្រប់ខេត្តនិងក្រុងទាំងអស់ក្នុងប្រទេសកម្ពុជា។ "
    "ប្រជាជនកម្ពុជាភាគច្រើននិយាយភាសាខ្មែរនៅផ្ទះនិងនៅកន្លែងធ្វើការរៀងរាល់ថ្ងៃ។"
)
TITLE = "ឯកសារសាកល្បងភាសាខ្មែរ"
QUESTION = "តើអក្សរខ្មែរសរសេរយ៉ាងដូចម្តេច?"
BOLD_LINE = "ពាក្យខ្លះ **ដិតខ្លាំង** ហើយពាក្យខ្លះធម្មតា។"
ENGLISH_WORDS = (
    "incomprehensibilities characteristically internationalization representatives "
    "responsibilities multidisciplinary telecommunications institutionalization "
    "counterrevolutionaries disproportionately "
) * 4
GERMAN_WORDS = (
    "Donaudampfschifffahrtsgesellschaft Bundesverfassungsgericht Rechtsschutzversicherung "
    "Kraftfahrzeughaftpflichtversicherung Arbeitsunfähigkeitsbescheinigung "
    "Geschwindigkeitsbegrenzung Grundstücksverkehrsgenehmigung "
) * 4

ORIGINAL = f"""\
title: The original
lang: en
sections:
  - title: Questions
    questions:
      - question: What is one?
        answer: |
          {ENGLISH_WORDS}
      - question: What is two?
        answer: The second answer.
      - question: What is three?
        answer: The third answer.
"""

TRANSLATION = f"""\
title: "{TITLE}"
lang: km
translation_of: faq
sections:
  - title: "សំណួរ"
    questions:
      - id: what-is-one
        question: "{QUESTION}"
        answer: |
          {LONG}

          {BOLD_LINE}
      - id: not-in-the-original
        question: "សួស្តី"
        answer: "អរគុណ។"
"""

GERMAN = f"""\
title: Ein Dokument
lang: de
sections:
  - title: Fragen
    questions:
      - question: Was ist das?
        answer: |
          {GERMAN_WORDS}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("khmer"), {
        "content/faq.yaml": ORIGINAL,
        "content/faq.km.yaml": TRANSLATION,
        "content/de.yaml": GERMAN,
    })


@pytest.fixture(scope="module")
def built(project: Path) -> dict[str, briefing.Output]:
    result = briefing.build(project=project)
    assert result.ok, result.failures
    return {output.source.stem: output for output in result.outputs}


@pytest.fixture(scope="module")
def khmer_text(built: dict[str, briefing.Output]) -> str:
    return pdftotext(built["faq.km"].pdf)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- the segmenter on its own -------------------------------------------------------------

def test_segmenter_finds_khmer_words_and_gives_the_text_back() -> None:
    assert segment("ខ្ញុំស្រលាញ់ប្រទេសកម្ពុជា") == ["ខ្ញុំ", "ស្រលាញ់", "ប្រទេស", "កម្ពុជា"]
    assert "".join(segment(LONG)) == LONG
    assert len(segment(LONG)) > 30
    assert segment("English words stay whole, and so do 123 numbers.") == [
        "English words stay whole, and so do 123 numbers."
    ]
    # A break the author typed (U+200B) or a joiner is respected: nothing is added beside it.
    typed = "ប្រទេស\u200bកម្ពុជា"
    assert segment(typed) == [typed]


def test_segment_html_touches_text_only() -> None:
    html = (
        '<html lang="km"><head><title>ប្រទេសកម្ពុជា</title><style>p{}</style></head>'
        '<body><p title="ប្រទេសកម្ពុជា">ប្រទេសកម្ពុជា &amp; <b>ខ្ញុំស្រលាញ់</b></p></body></html>'
    )
    out = segment_html(html)
    assert "<title>ប្រទេសកម្ពុជា</title>" in out
    assert 'title="ប្រទេសកម្ពុជា"' in out
    assert "<p title=\"ប្រទេសកម្ពុជា\">ប្រទេស<wbr>កម្ពុជា &amp; <b>ខ្ញុំ<wbr>ស្រលាញ់</b>" in out
    assert out.replace("<wbr>", "") == html
    english = "<p>No Khmer here</p>"
    assert segment_html(english) is english


# --- the Khmer PDF --------------------------------------------------------------------------

def test_khmer_font_embedded(built: dict[str, briefing.Output]) -> None:
    fonts = subprocess.run(["pdffonts", str(built["faq.km"].pdf)], check=True,
                           capture_output=True, text=True).stdout
    assert re.search(r"Noto-Serif-Khmer\s", fonts), fonts   # the answers
    assert re.search(r"Noto-Sans-Khmer-Bold\s", fonts), fonts  # the headings


def test_extracted_text_equals_source(khmer_text: str) -> None:
    assert "\u200b" not in khmer_text  # the break opportunities are no characters
    squashed = squash(khmer_text)
    for source in (TITLE, QUESTION, LONG, BOLD_LINE.replace("**", ""), "សួស្តី", "អរគុណ។"):
        assert squash(source) in squashed, source
    # Line by line, with the spaces between phrases: each printed line is a piece of the source.
    lines = [line.strip() for line in khmer_text.splitlines() if line.strip()]
    assert BOLD_LINE.replace("**", "") in lines
    assert sum(1 for line in lines if line in LONG) >= 3


def paragraph_lines(text: str, paragraph: str) -> list[int]:
    """Where each printed line of `paragraph` ends, as offsets into the source paragraph."""
    lines = [line.strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line and paragraph.startswith(line))
    ends: list[int] = []
    position = 0
    for line in lines[start:]:
        assert paragraph.startswith(line, position), (line, paragraph[position:])
        position += len(line)
        ends.append(position)
        if position == len(paragraph):
            return ends
        if paragraph[position] == " ":
            position += 1
    raise AssertionError("the paragraph does not end")


def test_long_paragraph_wraps_between_words(khmer_text: str) -> None:
    ends = paragraph_lines(khmer_text, LONG)
    assert len(ends) >= 3, "the paragraph should wrap over several lines"
    words = segment(LONG)
    boundaries = {sum(len(w) for w in words[:i]) for i in range(len(words) + 1)}
    for end in ends:
        at_space = end < len(LONG) and LONG[end] == " "
        assert end in boundaries or at_space, f"a word is split at {LONG[end - 5:end + 5]!r}"
    # Some line breaks fall between words where there is no space: the dictionary's work.
    assert any(end < len(LONG) and LONG[end] != " " for end in ends)


def test_no_hyphens_in_khmer(khmer_text: str) -> None:
    assert not re.search(r"[-\u2010\u00ad]$", khmer_text, re.MULTILINE)


def test_web_page_has_break_opportunities_not_characters(
    built: dict[str, briefing.Output], project: Path
) -> None:
    html = built["faq.km"].html.read_text(encoding="utf-8")
    assert "ប្រទេស<wbr>កម្ពុជា" in html
    assert f"<title>{TITLE}</title>" in html
    assert "\u200b" not in html
    assert "<wbr>" not in (project / "content" / "faq.km.yaml").read_text(encoding="utf-8")


# --- hyphenation follows each document's language -------------------------------------------

def hyphenated(text: str, words: str) -> list[tuple[str, int]]:
    """(word, split) for every line that ends in a hyphen (a layout hyphen extracts as U+00AD);
    the word must be a source word."""
    vocabulary = set(words.split())
    lines = [line.strip() for line in text.splitlines()]
    found = []
    for line, following in itertools.pairwise(lines):
        if re.search(r"\w[-\u2010\u00ad]$", line) and following:
            head, tail = line.split()[-1][:-1], following.split()[0]
            assert head + tail in vocabulary, (head, tail)
            found.append((head + tail, len(head)))
    return found


@pytest.mark.parametrize(("name", "words", "lang"), [
    ("faq", ENGLISH_WORDS, "en"), ("de", GERMAN_WORDS, "de"),
])
def test_hyphenation_uses_the_documents_language(
    built: dict[str, briefing.Output], name: str, words: str, lang: str
) -> None:
    found = hyphenated(pdftotext(built[name].pdf), words)
    assert found, "long words at line ends should be hyphenated"
    dictionary = pyphen.Pyphen(lang=lang)  # the one WeasyPrint picks for `lang: en` or `de`
    for word, split in found:
        assert split in dictionary.positions(word), (word, split, lang)


# --- characters that no font has -------------------------------------------------------------

def uncovered_character() -> str:
    """A private-use character that no installed font covers (fontconfig's answer)."""
    for code in (0xE000, 0xF0000, 0x10FFFD, 0xEFFF):
        listed = subprocess.run(["fc-list", f":charset={code:x}", "family"],
                                capture_output=True, text=True, check=True).stdout
        if not listed.strip():
            return chr(code)
    pytest.skip("every private-use candidate is covered by an installed font")


def test_missing_glyph_named_with_line_warning_then_error_under_strict(tmp_path: Path) -> None:
    char = uncovered_character()
    code = f"U+{ord(char):04X}"
    project = write_project(tmp_path, {"content/glyph.yaml": f"""\
        title: Glyphs
        sections:
          - title: S
            questions:
              - question: What prints?
                answer: |
                  A sign {char} that no font has.
        """})
    result = run_briefing("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert f"content/glyph.yaml:7: warning: no installed font has {code}" in result.stderr
    assert "private-use" in result.stderr

    (project / "out" / "glyph.pdf").unlink()
    strict = run_briefing("build", "--strict", cwd=project)
    assert strict.returncode == 1
    assert f"content/glyph.yaml:7: no installed font has {code}" in strict.stderr
    assert "(--strict)" in strict.stderr
    assert not (project / "out" / "glyph.pdf").exists()


def test_missing_glyph_message_names_the_script_and_a_font() -> None:
    source = "title: x\nanswer: Linear B 𐀀 and a hieroglyph 𓀀\n"
    messages = [
        '.notdef glyph rendered for Unicode string unsupported by fonts: "𐀀" (U+10000)',
        '.notdef glyph rendered for Unicode string unsupported by fonts: "𓀀" (U+13000)',
        '.notdef glyph rendered for Unicode string unsupported by fonts: "𐀀" (U+10000)',
        "some other warning",
    ]
    problems = missing_glyphs("content/x.yaml", source, messages)
    assert [str(p) for p in problems] == [
        "content/x.yaml:2: warning: no installed font has U+10000 '𐀀' (LINEAR B SYLLABLE B008 A):"
        " they would print as empty boxes; install a font that covers Linear B"
        " (such as Noto Sans Linear B)",
        "content/x.yaml:2: warning: no installed font has U+13000 '𓀀' (EGYPTIAN HIEROGLYPH A001):"
        " they would print as empty boxes; install a font that covers Egyptian Hieroglyphs"
        " (such as Noto Sans Egyptian Hieroglyphs)",
    ]
    assert script_of("ក") == "Khmer"
    assert script_of("\ue000") is None


# --- translations -------------------------------------------------------------------------------

def test_check_lists_missing_and_extra_questions_with_lines(project: Path) -> None:
    result = run_briefing("check", "content/faq.km.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert (
        "content/faq.km.yaml:13: warning: question id `not-in-the-original` is not in "
        "content/faq.yaml: give each translated question the `id:` of the question it translates"
    ) in lines
    assert (
        'content/faq.km.yaml:3: warning: question `what-is-two` of content/faq.yaml:9 is not '
        'translated ("What is two?")'
    ) in lines
    assert (
        'content/faq.km.yaml:3: warning: question `what-is-three` of content/faq.yaml:11 is not '
        'translated ("What is three?")'
    ) in lines
    assert not any("what-is-one" in line for line in lines)
    assert run_briefing("check", "--strict", "content/faq.km.yaml", cwd=project).returncode == 1


def test_translation_of_must_name_a_document_next_to_it(tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "content/a.km.yaml": "title: A\nlang: km\ntranslation_of: nowhere\n"
                             "sections:\n  - title: S\n    questions:\n"
                             "      - {question: Q, answer: A}\n",
        "content/b.yaml": "title: B\ntranslation_of: ../secret\n"
                          "sections:\n  - title: S\n    questions:\n"
                          "      - {question: Q, answer: A}\n",
    })
    result = run_briefing("check", cwd=project)
    assert result.returncode == 1
    assert "content/a.km.yaml:3: `translation_of`: there is no nowhere.yaml next to this file" \
        in result.stderr
    assert "content/b.yaml:2: `translation_of` must name a document in the same folder" \
        in result.stderr


def test_demo_translation_pairs_with_the_seed() -> None:
    """The shipped Khmer demo: marked as such, and three seed questions left to translate."""
    demo = REPO / "content" / "cambodia-faq.km.yaml"
    text = demo.read_text(encoding="utf-8")
    assert 'classification: "Demonstration text: not an approved translation"' in text
    result = briefing.check([demo], project=REPO)
    assert not result.failed()
    untranslated = [p for p in result.problems if "is not translated" in p.message]
    assert len(untranslated) == 3
    assert len(result.problems) == 3
