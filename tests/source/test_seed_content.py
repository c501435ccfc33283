"""The seed FAQ in content/cambodia-faq.yaml must reproduce the source verbatim.

The source (tests/fixtures/faq-source.txt, a byte copy of the seed text) was
extracted from a PDF: two paragraphs are split by page breaks and a footnote
line sits in the middle of the last answer. The checks below rebuild the
source's paragraphs independently and compare sentence by sentence.
"""

import re

import yaml

from conftest import REPO, TESTS

ROOT = REPO
CONTENT = ROOT / "content" / "cambodia-faq.yaml"
SOURCE = TESTS / "fixtures" / "faq-source.txt"

TITLE = "Changing the Narrative about Child Sex Trafficking in Cambodia"
SUBTITLE = "Message Resource for Global Staff"
SECTION_HEADING = "ANSWERS TO FREQUENTLY ASKED QUESTIONS"
FOOTNOTE_LINE = (
    "\u00b9 See page 31 of the 2012 prevalence study for more details on these reports."
)
FOOTNOTE_TEXT = "See page 31 of the 2012 prevalence study for more details on these reports."
FOOTNOTE_ANCHOR = "directed law enforcement."


def load_content():
    with CONTENT.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def norm(text):
    return re.sub(r"\s+", " ", text).strip()


def source_paragraphs():
    """Paragraphs of the source body, page breaks repaired, footnote removed."""
    text = SOURCE.read_text(encoding="utf-8")
    paras = [norm(p) for p in re.split(r"\n\s*\n", text) if p.strip()]
    assert paras[:3] == [TITLE, SUBTITLE, SECTION_HEADING]
    body = paras[3:]

    # Footnote line interrupts a paragraph: drop it and join the two halves.
    i = body.index(FOOTNOTE_LINE)
    assert body[i - 1].endswith("investments in gaps")
    body[i - 1 : i + 2] = [body[i - 1] + " " + body[i + 1]]

    # Page break inside the labor-trafficking answer.
    j = next(k for k, p in enumerate(body) if p.endswith("issues of violence that"))
    assert body[j + 1].startswith("Cambodia needs to address")
    body[j : j + 2] = [body[j] + " " + body[j + 1]]

    # The footnote marker is not part of the sentence text.
    body = [p.replace("\u00b9", "") for p in body]
    assert not any("\u00b9" in p for p in body)
    return body


def source_questions(paras):
    return [p for p in paras if p.endswith("?")]


def sentences(paragraph):
    # Split after ., ? or ! followed by whitespace; "2.2%" and "0.1%" stay whole.
    return [s for s in re.split(r"(?<=[.?!])\s+", paragraph) if s]


def answers_text(data):
    qs = data["sections"][0]["questions"]
    return "\n\n".join(q["answer"] for q in qs)


def strip_refs(text):
    return re.sub(r"\[\^[^\]]+\]", "", text)


def test_top_level_fields_exact():
    data = load_content()
    assert set(data) == {"title", "subtitle", "lang", "sections", "footnotes"}
    assert data["title"] == TITLE
    assert data["subtitle"] == SUBTITLE
    assert data["lang"] == "en"


def test_one_section_five_questions_from_source():
    data = load_content()
    assert len(data["sections"]) == 1
    section = data["sections"][0]
    assert section["title"] == "Answers to Frequently Asked Questions"
    assert section["title"].upper() == SECTION_HEADING
    questions = [q["question"] for q in section["questions"]]
    expected = source_questions(source_paragraphs())
    assert len(expected) == 5
    assert questions == expected
    for q in section["questions"]:
        assert set(q) == {"question", "answer"}


def test_every_source_sentence_appears_verbatim():
    data = load_content()
    answers = norm(strip_refs(answers_text(data)))
    paras = source_paragraphs()
    questions = set(source_questions(paras))
    missing = []
    count = 0
    for p in paras:
        if p in questions:
            continue
        for s in sentences(p):
            count += 1
            if s not in answers:
                missing.append(s)
    assert count > 30  # guards against the split silently producing nothing
    assert not missing, missing


def test_answer_paragraphs_match_source_paragraphs():
    """Paragraph breaks as in the source, and nothing added or dropped."""
    data = load_content()
    paras = source_paragraphs()
    questions = source_questions(paras)
    got = []
    for q in data["sections"][0]["questions"]:
        got.append(q["question"])
        got.extend(norm(strip_refs(p)) for p in re.split(r"\n\s*\n", q["answer"]) if p.strip())
    # strip_refs leaves "enforcement. As" intact because the ref sits before the space.
    assert got == paras
    assert len([p for p in got if p in questions]) == 5


def test_footnote_reference_placement_and_text():
    data = load_content()
    text = answers_text(data)
    assert text.count("[^prevalence-study]") == 1
    assert FOOTNOTE_ANCHOR + "[^prevalence-study] As law enforcement" in text
    assert re.findall(r"\[\^([^\]]+)\]", text) == ["prevalence-study"]
    assert data["footnotes"] == {"prevalence-study": FOOTNOTE_TEXT}
    assert FOOTNOTE_LINE.endswith(FOOTNOTE_TEXT)
    assert "\u00b9" not in text


def test_no_accidental_markdown_blocks():
    data = load_content()
    for q in data["sections"][0]["questions"]:
        for line in q["answer"].splitlines():
            assert not re.match(r"\s*(\d+[.)]\s|[-+*>#]\s|```)", line), line
            assert not line.startswith((" ", "\t")), line


def test_content_files_name_no_path_outside_the_repository():
    """The header says where the text comes from in words: no build machine's absolute path."""
    repo = REPO
    for path in sorted((repo / "content").rglob("*.yaml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = re.search(r"(?<![\w.])(?:/(?:work|home|tmp|Users|root|srv|mnt|opt)/|"
                              r"[A-Za-z]:\\)", line)
            assert not found, f"{path.relative_to(repo)}:{number}: {line}"
    header = (repo / "content" / "cambodia-faq.yaml").read_text(encoding="utf-8")[:400]
    assert "`faq-source.txt`" in header
