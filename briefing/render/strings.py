"""The words the templates print around the content ("chrome"), one table per language.

Every word a reader sees that is not the content ("In this briefing", "Notes", "Page 3 of 8",
the cover's labels, "Prepared for", dates, page and note numbers) comes from here, so a Khmer
document prints no English. English and Khmer are built in; another language falls back to
English for what it does not have; a project overrides any string (briefing.toml `[strings]`,
passed in as `overrides`). Dates are the language's own long form from CLDR (Babel's
`format_date`), and numbers use the language's digits (Khmer: ០១២៣៤៥៦៧៨៩).

A string is a `str.format` template: `strings.text("page_of", page=3, pages=8)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

ENGLISH: Mapping[str, str] = MappingProxyType({
    "contents": "In this briefing",
    "pack_contents": "Contents",
    "continued": "(continued)",
    "notes": "Notes",
    "pack_notes": "Notes: {title}",
    "page_of": "Page {page} of {pages}",
    "page_ref": "p. {page}",
    "back_to_call": "Back to the call of note {number}",
    "audience": "Audience",
    "organisation": "Organisation",
    "date": "Date",
    "version": "Version",
    "briefing_pack": "Briefing pack",
    "prepared_for": "Prepared for {recipient}",
    "cover": "Cover",
})

KHMER: Mapping[str, str] = MappingProxyType({
    "contents": "ក្នុងឯកសារសង្ខេបនេះ",
    "pack_contents": "មាតិកា",
    "continued": "(បន្ត)",
    "notes": "កំណត់សម្គាល់",
    "pack_notes": "កំណត់សម្គាល់៖ {title}",
    "page_of": "ទំព័រ {page} នៃ {pages}",
    "page_ref": "ទំ. {page}",
    "back_to_call": "ត្រឡប់ទៅកន្លែងហៅកំណត់សម្គាល់ {number}",
    "audience": "ទស្សនិកជន",
    "organisation": "អង្គការ",
    "date": "កាលបរិច្ឆេទ",
    "version": "កំណែ",
    "briefing_pack": "កញ្ចប់ឯកសារសង្ខេប",
    "prepared_for": "រៀបចំសម្រាប់ {recipient}",
    "cover": "គម្រប",
})

#: built-in tables by primary language subtag
BUILT_IN: Mapping[str, Mapping[str, str]] = MappingProxyType({"en": ENGLISH, "km": KHMER})
#: digits of languages whose CLDR default numbering is not Latin in print
_DIGITS = {"km": str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")}


def primary(lang: str) -> str:
    """`en-GB` -> `en`: the tables are per language; the region matters for dates only."""
    return lang.replace("_", "-").split("-", 1)[0].lower()


@dataclass(frozen=True)
class Strings:
    """One language's chrome: text, numbers and dates as a reader of that language reads them."""

    lang: str
    table: Mapping[str, str] = field(default_factory=lambda: ENGLISH)

    def text(self, key: str, **values: object) -> str:
        """The string `key`, its `{placeholders}` filled in (numbers in the language's digits)."""
        shown = {name: self.number(v) if isinstance(v, int) else v for name, v in values.items()}
        return self.table[key].format(**shown)

    def number(self, value: int | str) -> str:
        """A number (page, note) in the language's digits."""
        digits = _DIGITS.get(primary(self.lang))
        return str(value).translate(digits) if digits else str(value)

    def date(self, value: dt.date) -> str:
        """The long date form of the language and region (CLDR): "1 March 2026" for en-GB,
        "March 1, 2026" for en-US, "១ មីនា ២០២៦" for km."""
        try:
            locale = Locale.parse(self.lang.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            locale = Locale.parse("en_GB")
        if locale.territory is None and locale.language == "en":
            locale = Locale.parse("en_GB")  # plain `en`: the house style's day-month-year
        return self.number(format_date(value, "long", locale=locale))

    def page_of(self, page: int, pages: int) -> str:
        return self.text("page_of", page=page, pages=pages)


def project_strings(lang: str, by_language: Mapping[str, Mapping[str, str]]) -> Strings:
    """The chrome of a document in `lang` with a project's `[strings]` tables (briefing.toml,
    by language: `[strings.km]`); a table for the region (`en-US`) goes over the language's."""
    overrides = {**by_language.get(primary(lang), {}), **by_language.get(lang, {})}
    return strings_for(lang, overrides)


def strings_for(lang: str, overrides: Mapping[str, str] | None = None) -> Strings:
    """The chrome of a document in `lang`: the built-in table of its language over the
    English one, then the project's `overrides` (keys of ENGLISH; an unknown key is ignored
    here: the project configuration reports it)."""
    table = {**ENGLISH, **BUILT_IN.get(primary(lang), {})}
    for key, value in (overrides or {}).items():
        if key in ENGLISH:
            table[key] = value
    return Strings(lang=lang, table=MappingProxyType(table))
