"""Free text on input: bidi controls removed, whitespace stripped."""

from minqing.text import clean, strip_bidi


def test_bidi_controls_are_removed():
    assert strip_bidi("\u202eevil\u202c \u2066x\u2069\u200e\u200f\u061c") == "evil x"


def test_clean_strips_and_keeps_the_rest():
    assert clean("  张三 \u202e") == "张三"
    assert clean(None) == ""
    assert clean("[x](http://e.invalid) :red[a] -- b") == "[x](http://e.invalid) :red[a] -- b"
