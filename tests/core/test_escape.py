"""cyclone.escape: HTML, URL and JSON escaping, str/bytes conversions, linkify."""

from __future__ import annotations

import json

import pytest

from cyclone import escape
from cyclone.escape import linkify

# --- HTML ---------------------------------------------------------------------


def test_xhtml_escape_escapes_the_five_special_characters() -> None:
    # Tornado 6 writes &#x27; for the single quote (it was &#39; here before).
    assert escape.xhtml_escape('<a href="x">Tom & Jerry\'s</a>') == (
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#x27;s&lt;/a&gt;"
    )


def test_xhtml_escape_accepts_utf8_bytes_and_keeps_other_text() -> None:
    assert escape.xhtml_escape("café <b>".encode()) == "café &lt;b&gt;"
    assert escape.xhtml_escape("plain text") == "plain text"


@pytest.mark.parametrize(
    ("escaped", "text"),
    [
        ("&lt;b&gt; &amp; &quot;q&quot; &#39;s&#39;", "<b> & \"q\" 's'"),
        ("&eacute;&#233;&#xe9;&#XE9;", "éééé"),
        ("&nosuchentity; & alone", "&nosuchentity; & alone"),
        (b"&lt;bytes&gt;", "<bytes>"),
    ],
)
def test_xhtml_unescape_decodes_named_decimal_and_hex_entities(
    escaped: str | bytes, text: str
) -> None:
    assert escape.xhtml_unescape(escaped) == text


def test_xhtml_escape_round_trips() -> None:
    text = "<script>alert('x & \"y\"')</script> ünïcode"
    assert escape.xhtml_unescape(escape.xhtml_escape(text)) == text


# --- URLs ---------------------------------------------------------------------


def test_url_escape_uses_plus_for_spaces_by_default() -> None:
    assert escape.url_escape("a b&c=d/é") == "a+b%26c%3Dd%2F%C3%A9"


def test_url_escape_without_plus_uses_percent_20_and_keeps_slashes() -> None:
    assert escape.url_escape("a b/c+d", plus=False) == "a%20b/c%2Bd"


def test_url_escape_accepts_bytes() -> None:
    assert escape.url_escape(b"\xff \x00") == "%FF+%00"


def test_url_unescape_decodes_plus_only_when_asked() -> None:
    assert escape.url_unescape("a+b%20c") == "a b c"
    assert escape.url_unescape("a+b%20c", plus=False) == "a+b c"


def test_url_unescape_with_encoding_none_returns_bytes() -> None:
    assert escape.url_unescape("%FF+x", encoding=None) == b"\xff x"
    assert escape.url_unescape(b"%FF+x", encoding=None, plus=False) == b"\xff+x"


def test_url_unescape_to_bytes_accepts_bytes_that_are_not_utf8() -> None:
    assert escape.url_unescape(b"\xff+%FF", encoding=None) == b"\xff \xff"


def test_url_unescape_with_another_encoding() -> None:
    assert escape.url_unescape("caf%E9", encoding="latin-1") == "café"


def test_url_escape_round_trips_unicode() -> None:
    text = "naïve query/?&= +"
    for plus in (True, False):
        assert escape.url_unescape(escape.url_escape(text, plus=plus), plus=plus) == text


# --- JSON ---------------------------------------------------------------------


def test_json_encode_is_safe_inside_a_script_element() -> None:
    encoded = escape.json_encode({"html": "</script><script>alert(1)</script>"})
    assert "</" not in encoded
    assert json.loads(encoded) == {"html": "</script><script>alert(1)</script>"}


def test_json_encode_round_trips_through_json_decode() -> None:
    value = {"a": [1, 2.5, None, True], "é": "ü", "nested": {"x": "</tag>"}}
    assert escape.json_decode(escape.json_encode(value)) == value


def test_json_decode_accepts_bytes() -> None:
    assert escape.json_decode(b'{"k": ["v", 1]}') == {"k": ["v", 1]}


# --- whitespace, str and bytes ------------------------------------------------


def test_squeeze_collapses_whitespace_runs_and_strips() -> None:
    assert escape.squeeze("  a \t\n b\r\n\nc  ") == "a b c"


def test_utf8_encodes_str_and_passes_bytes_and_none() -> None:
    assert escape.utf8("é") == b"\xc3\xa9"
    assert escape.utf8(b"\xff") == b"\xff"
    assert escape.utf8(None) is None
    with pytest.raises(TypeError):
        escape.utf8(42)


def test_to_unicode_decodes_bytes_and_passes_str_and_none() -> None:
    assert escape.to_unicode(b"\xc3\xa9") == "é"
    assert escape.to_unicode("x") == "x"
    assert escape.to_unicode(None) is None
    with pytest.raises(TypeError):
        escape.to_unicode(1.5)
    with pytest.raises(UnicodeDecodeError):
        escape.to_unicode(b"\xff")


def test_native_str_and_to_basestring_are_str_on_python_3() -> None:
    assert escape.native_str(b"abc") == "abc"
    assert escape.to_basestring(b"abc") == "abc"
    assert escape.native_str("abc") == "abc"


def test_recursive_unicode_decodes_inside_containers() -> None:
    value = {b"k": [b"a", (b"b", 1)], "s": b"\xc3\xa9", "n": None}
    assert escape.recursive_unicode(value) == {"k": ["a", ("b", 1)], "s": "é", "n": None}


# --- linkify ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "see http://example.com/ now",
            'see <a href="http://example.com/">http://example.com/</a> now',
        ),
        ("www.example.com", '<a href="http://www.example.com">www.example.com</a>'),
        (
            "at https://example.com/a?x=1&y=2.",
            'at <a href="https://example.com/a?x=1&amp;y=2">https://example.com/a?x=1&amp;y=2</a>.',
        ),
        (
            "(http://example.com/wiki/A_(b))",
            '(<a href="http://example.com/wiki/A_(b)">http://example.com/wiki/A_(b)</a>)',
        ),
        (
            "go to http://example.com, http://example.org!",
            'go to <a href="http://example.com">http://example.com</a>, '
            '<a href="http://example.org">http://example.org</a>!',
        ),
        # Schemes are compared as written, as Tornado 6 does: "HTTP" is not "http".
        ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
        # Tornado 6 links a bare "http://" (its last "/" ends the link).
        ("no links: http:/ and www. and a.b", "no links: http:/ and www. and a.b"),
        ("bare http://", 'bare <a href="http://">http://</a>'),
        ("<b>bold</b> & co", "&lt;b&gt;bold&lt;/b&gt; &amp; co"),
    ],
)
def test_linkify_links_urls_and_escapes_the_rest(text: str, html: str) -> None:
    assert linkify(text) == html


@pytest.mark.parametrize(
    "hostile",
    [
        "javascript://%0aalert(document.cookie)",
        "JaVaScRiPt://%0Aalert(1)",
        "vbscript://x",
        "data://text/html;base64,PHNjcmlwdD4=",
        "jav&#x61;script://alert(1)",
        "java\tscript://alert(1)",
    ],
)
def test_linkify_never_links_scripting_schemes(hostile: str) -> None:
    html = linkify(hostile)
    assert "<a" not in html
    assert "href" not in html


def test_linkify_links_scripting_schemes_only_when_the_caller_permits_them() -> None:
    # Tornado 6 links any scheme the caller lists (this test refused them before);
    # the default list has only http and https.
    html = linkify("javascript://x%0aalert(1) data://x", permitted_protocols=["javascript", "data"])
    assert html == (
        '<a href="javascript://x%0aalert(1)">javascript://x%0aalert(1)</a> '
        '<a href="data://x">data://x</a>'
    )
    assert "<a" not in linkify("javascript://x%0aalert(1) data://x")


@pytest.mark.parametrize(
    "hostile",
    [
        'http://example.com/" onmouseover="alert(1)',
        "http://example.com/' onmouseover='alert(1)",
        'http://example.com/"><script>alert(1)</script>',
        "http://example.com/<img src=x onerror=alert(1)>",
    ],
)
def test_linkify_quotes_and_brackets_cannot_break_out_of_the_href(hostile: str) -> None:
    html = linkify(hostile)
    assert html.startswith('<a href="http://example.com/">http://example.com/</a>')
    tail = html.removeprefix('<a href="http://example.com/">http://example.com/</a>')
    assert "<" not in tail
    assert '"' not in tail
    assert "'" not in tail


def test_linkify_permitted_protocols_and_require_protocol() -> None:
    assert linkify("ftp://example.com") == "ftp://example.com"
    assert linkify("ftp://example.com", permitted_protocols=["ftp"]) == (
        '<a href="ftp://example.com">ftp://example.com</a>'
    )
    assert linkify("www.example.com", require_protocol=True) == "www.example.com"


def test_linkify_extra_params_as_string_or_function() -> None:
    assert linkify("http://a.com", extra_params='rel="nofollow"  ') == (
        '<a href="http://a.com" rel="nofollow">http://a.com</a>'
    )

    def params(href: str) -> str:
        return 'class="internal"' if href.startswith("http://a.com") else 'class="external"'

    assert linkify("http://a.com http://b.com", extra_params=params) == (
        '<a href="http://a.com" class="internal">http://a.com</a> '
        '<a href="http://b.com" class="external">http://b.com</a>'
    )


def test_linkify_shorten_abbreviates_long_links_and_keeps_the_full_url_in_title() -> None:
    url = "http://www.example.com/documentation/reference/page.html?x=1"
    html = linkify(url, shorten=True)
    assert html == (f'<a href="{url}" title="{url}">http://www.example.com/document...</a>')
    assert linkify("http://example.com/short", shorten=True) == (
        '<a href="http://example.com/short">http://example.com/short</a>'
    )


def test_linkify_accepts_bytes() -> None:
    assert linkify(b"www.x.org") == '<a href="http://www.x.org">www.x.org</a>'


# --- query strings and large escaped bodies --------------------------------------


def test_unquote_to_bytes_matches_the_standard_library_across_slice_boundaries() -> None:
    import random
    import urllib.parse

    rng = random.Random(15)
    alphabet = b"%%%0123456789abcdefABCDEFxyz=+&"
    for size in (0, 1, 2, 3, 2046, 2047, 2048, 2049, 2050, 5000, 20000):
        for _ in range(5):
            data = bytes(rng.choice(alphabet) for _ in range(size))
            assert escape._unquote_to_bytes(data) == urllib.parse.unquote_to_bytes(data)
    for shift in range(4):
        data = b"x" * shift + b"%41" * 3000
        assert escape._unquote_to_bytes(data) == b"x" * shift + b"A" * 3000


def test_parse_qs_bytes_keeps_values_as_bytes_and_names_as_latin1() -> None:
    assert escape.parse_qs_bytes(b"a=%FF&a=2&n%E9=+x&empty=") == {
        "a": [b"\xff", b"2"],
        "n\xe9": [b" x"],
    }
    assert escape.parse_qs_bytes("empty=&flag", keep_blank_values=True) == {
        "empty": [b""],
        "flag": [b""],
    }


def test_json_encode_spacing_and_ascii_are_json_dumps_defaults() -> None:
    assert escape.json_encode({"a": [1, "é"]}) == '{"a": [1, "\\u00e9"]}'
