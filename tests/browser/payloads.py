"""Hostile strings for the payload tests: HTML, markdown links and images, Streamlit's colour and
icon directives, emoji shortcodes, typographic replacements, autolinks, maths and bidi overrides."""

OUTSIDE = "http://example.invalid"

PAYLOADS = (
    "<b>bold</b><img src=x onerror=alert(1)><script>alert(1)</script>",
    f"[Session expired - log in again]({OUTSIDE}/login)",
    f"![p]({OUTSIDE}/pixel.png)",
    ":red[red] :blue-background[bg] :small[s] :violet-badge[b] :help[h]",
    ":material/warning: :smile: :streamlit: :+1:",
    "a -- b -> c <- d <-> e >= f <= g ~= h",
    f"{OUTSIDE}/bare www.example.invalid mail@example.invalid",
    "**strong** _em_ ~~del~~ `code` $x^2$ $$y$$",
    "# heading\n- item\n1. one\n> quote\n    indented code\n| a | b |\n|---|---|",
    "&lt;entity&gt; &#60;b&#62; &amp;",
    "\u202eevil\u202c \u2066iso\u2069 txet",
    "line one\nline two\n===",
)


def shown(payload: str) -> str:
    """What a user must read for ``payload``: its characters, bidi controls removed."""
    import re

    text = re.sub("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]", "", payload)
    return "\n".join(line.lstrip(" \t") for line in text.split("\n"))
