"""The inert-text policy: sequences removed whole, every other control shown, nothing else
touched."""

from __future__ import annotations

import random
import re

import pytest

from gradekit.harness.inert import inert, inert_data, strip_sequences

#: what may never reach a report: C0 but tab and newline, DEL, C1, bidi controls, surrogates
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@pytest.mark.parametrize(("text", "shown"), [
    ("\x1b[32mScore: 100/100\x1b[0m", "Score: 100/100"),                 # SGR colours
    ("\x1b[2J\x1b[Hclean", "clean"),                                      # clear, home
    ("a\x1b[1A\x1b[2K\x1b[10Db", "ab"),                                   # cursor up, erase
    ("\x1b[?25l\x1b[?1049hx", "x"),                                       # private modes
    ("\x1b[38;2;0;255;0mgreen", "green"),                                 # truecolour
    ("\x1b]8;;https://evil.invalid\x1b\\link\x1b]8;;\x1b\\", "link"),     # OSC 8 hyperlink
    ("\x1b]52;c;cm0gLXJmIH4=\x07after", "after"),                         # OSC 52 clipboard
    ("\x1b]0;fake title\x9cz", "z"),                                      # OSC ended by C1 ST
    ("\x9d0;title\x07z", "z"),                                            # C1 OSC
    ("\x9b2J\x9b32mgreen", "green"),                                      # C1 CSI
    ("\x1bPq#0;2;0;0;0\x1b\\sixel", "sixel"),                             # DCS
    ("\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\.", "."),                  # APC, PM, SOS
    ("\x1bc\x1b7\x1b8\x1b(B\x1b#8\x1bMok", "ok"),                         # other escapes
])
def test_escape_sequences_are_removed_whole(text: str, shown: str) -> None:
    assert inert(text) == shown


@pytest.mark.parametrize(("text", "shown"), [
    ("0/100\rScore: 100/100", "0/100\\rScore: 100/100"),  # a lone CR cannot overwrite
    ("line\r\nnext\r\n", "line\nnext\n"),                  # Windows line ends are line ends
    ("\u202eexe.pdf", "\\u202eexe.pdf"),                   # right-to-left override
    ("\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d", "\\u2066\\u2067\\u2068\\u2069"
                                                         "\\u202a\\u202b\\u202c\\u202d"),
    ("bell\x07 nul\x00 bs\x08 del\x7f nel\x85 ff\x0c", "bell\\x07 nul\\x00 bs\\x08 del\\x7f "
                                                       "nel\\x85 ff\\x0c"),
    ("\x1b]52;c;never ended", "\\x1b]52;c;never ended"),   # unfinished: shown, not obeyed
    ("\x1b[31", "\\x1b[31"),
    ("\x1b\x1b[31m[31m", "\\x1b[31m"),                      # no sequence re-forms
    ("\udcffname.py", "\\udcffname.py"),                   # undecodable upload byte
])
def test_other_controls_are_shown(text: str, shown: str) -> None:
    assert inert(text) == shown


def test_text_without_controls_is_returned_as_is() -> None:
    text = "Tab\tand newline\n, [bold]markup[/], unicode é 中文 ✓ \u200b, a literal \\x1b"
    assert inert(text) is text


def test_every_code_point_alone_and_embedded_comes_out_safe() -> None:
    for point in [*range(0x250), *range(0x2000, 0x2070), 0xFEFF, 0xFF1D, 0xD800, 0xDFFF]:
        for text in (chr(point), f"a{chr(point)}b", f"\x1b[{chr(point)}m", f"\x1b{chr(point)}"):
            cleaned = inert(text)
            assert not UNSAFE.search(cleaned), (text, cleaned)
            assert inert(cleaned) == cleaned


def test_random_soup_of_sequence_bytes_comes_out_safe_and_stable() -> None:
    alphabet = ["\x1b", "[", "]", "P", "\\", "\x07", "\x9b", "\x9c", "\x9d", "\r", "\n", "\t",
                ";", "0", "2", "J", "m", "?", "(", "\u202e", "a", " ", "é"]
    rng = random.Random(20240607)
    for _ in range(3000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 40)))
        cleaned = inert(text)
        assert not UNSAFE.search(cleaned), (text, cleaned)
        assert inert(cleaned) == cleaned


def test_strip_sequences_keeps_every_other_character() -> None:
    assert strip_sequences("\x1b[0;31mNameError\x1b[0m\r\x00") == "NameError\r\x00"


def test_inert_data_cleans_nested_strings_and_keeps_clean_data_as_is() -> None:
    dirty = {"rubric\x1b[1m": ["\x9b2Jx", 0.5, ("\u202ey",)], "credit": 1.0}
    assert inert_data(dirty) == {"rubric": ["x", 0.5, ("\\u202ey",)], "credit": 1.0}
    clean = {"rubric": ["x", 0.5, ("y",)], "credit": 1.0}
    assert inert_data(clean) is clean
