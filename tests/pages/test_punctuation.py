"""Chinese text uses Chinese punctuation: every zh-Hans translation, and the dates in it."""

import ast
import re
from datetime import date
from pathlib import Path

from django.conf import settings
from django.utils import translation

from yekuo.dates import day_text, month_day_text

CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
IDEOGRAPH = "[\u3400-\u9fff]"
# An ASCII colon, semicolon or parenthesis touching a Chinese character, or an ASCII comma
# between two: Chinese text takes ：；（），.
ASCII_IN_CHINESE = re.compile(
    rf"{IDEOGRAPH}\s*[:;()]|[:;()]\s*{IDEOGRAPH}|{IDEOGRAPH}\s*,\s*{IDEOGRAPH}"
)
# JSON and code in backticks are written as they must be typed, whatever the language.
VERBATIM = re.compile(r"\{[^}]*\}|`[^`]*`")
# The argument of the yesno template filter: its commas separate the choices.
FILTER_ARGUMENTS = {"yes,no"}


def ascii_punctuation_in_chinese(text: str) -> list[str]:
    return [m.group(0) for m in ASCII_IN_CHINESE.finditer(VERBATIM.sub("", text))]


def test_the_scan_finds_ascii_punctuation_in_chinese():
    assert ascii_punctuation_in_chinese("原因: 客户未就绪") == ["因:"]
    assert ascii_punctuation_in_chinese("计量中心(营销部)") == ["心(", "部)"]
    assert ascii_punctuation_in_chinese("是,否") == ["是,否"]
    assert ascii_punctuation_in_chinese("原因：客户未就绪（营销部）") == []
    assert ascii_punctuation_in_chinese('或 {"id": 代号}，用 `Authorization: Token`') == []


def po_entries(path: Path):
    """Yield (msgid, msgstr) of a .po file; plural forms each as a msgstr of their own."""
    msgid, texts, current = "", [], None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        keyword = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line)
        if keyword:
            current = [keyword.group(1), ast.literal_eval(keyword.group(2))]
            if current[0] == "msgid":
                msgid = ""
            (texts if current[0].startswith("msgstr") else []).append(current)
        elif line.startswith('"') and current is not None:
            current[1] += ast.literal_eval(line)
        elif not line.strip():
            for _keyword, text in texts:
                yield msgid, text
            texts, current = [], None
        if current is not None and current[0] == "msgid":
            msgid = current[1]


def test_no_chinese_translation_uses_ascii_punctuation():
    found = {
        msgid: (text, bad)
        for msgid, text in po_entries(CATALOG)
        if msgid and msgid not in FILTER_ARGUMENTS
        if (bad := ascii_punctuation_in_chinese(text))
    }
    assert found == {}, "\n".join(f"{k!r} → {v[0]!r}: {v[1]}" for k, v in found.items())
    # The scan read the catalogue, not nothing.
    assert sum(1 for _entry in po_entries(CATALOG)) > 1000


def test_dates_read_as_people_write_them():
    with translation.override("zh-hans"):
        assert day_text(date(2026, 12, 3)) == "2026年12月3日"
        assert month_day_text(date(2026, 3, 5)) == "3月5日"
    with translation.override("en"):
        assert day_text(date(2026, 12, 3)) == "Dec. 3, 2026"
        assert month_day_text(date(2026, 3, 5)) == "March 5"
