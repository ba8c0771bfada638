"""Markdown rendering: CommonMark + tables, math kept as LaTeX, Pygments code, escaping."""

from __future__ import annotations

import pytest

from exporter.text import markup
from exporter.text.latex import latex_error
from exporter.text.markup import Finding, RenderedField, render_field, to_html


def test_paragraphs_emphasis_and_lists() -> None:
    html = to_html("Some **bold**, *italic* and `code`.\n\n- one\n- two\n\n1. first\n")
    assert "<p>Some <strong>bold</strong>, <em>italic</em> and <code>code</code>.</p>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>\n</ol>" in html


def test_inline_fields_have_no_paragraph() -> None:
    assert to_html("What is **dropout**?", inline=True) == "What is <strong>dropout</strong>?"


def test_tables() -> None:
    html = to_html("| a | b |\n|---|:-:|\n| 1 | 2 |\n")
    assert html.startswith("<table>\n<thead>\n<tr>\n<th>a</th>")
    assert "<td>1</td>" in html
    assert '<td style="text-align:center">2</td>' in html


# --- math ----------------------------------------------------------------------------


def test_inline_math_is_kept_as_latex_in_mathjax_delimiters() -> None:
    html = to_html(r"The sigmoid $\sigma(x) = \frac{1}{1+e^{-x}}$ squashes.")
    assert html == (
        '<p>The sigmoid <span class="math math-inline">'
        r"\(\sigma(x) = \frac{1}{1+e^{-x}}\)</span> squashes.</p>" + "\n"
    )


def test_display_math_block() -> None:
    html = to_html("Before.\n\n$$\n\\sum_i x_i\n$$\n\nAfter.")
    assert '<div class="math math-display">\\[\\sum_i x_i\\]</div>' in html


def test_inline_display_math() -> None:
    html = to_html("The loss $$L = -\\log p$$ here", inline=True)
    # a display formula written inline stays inside its paragraph: a span, not a div
    assert '<span class="math math-display">\\[L = -\\log p\\]</span>' in html
    assert "<div" not in html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$a<b$", r'<span class="math math-inline">\(a&lt;b\)</span>'),
        ("$a > b & c$", r'<span class="math math-inline">\(a &gt; b &amp; c\)</span>'),
        ("$$\n</div><script>x</script>\n$$", r"\[&lt;/div&gt;&lt;script&gt;x&lt;/script&gt;\]"),
    ],
)
def test_math_content_is_html_escaped(text: str, expected: str) -> None:
    html = to_html(text)
    assert expected in html
    assert "<script>" not in html


def test_math_findings_carry_the_latex_and_line() -> None:
    found = render_field("Intro\n\n$$\n\\frac{a}{b}\n$$\n\nand $x^2$ too.").findings
    assert found == (Finding("math", "\\frac{a}{b}", 2), Finding("math", "x^2", 6))


def test_findings_inside_a_paragraph_have_their_own_line() -> None:
    # Regression: inline tokens carry no line, so all findings got the paragraph's first one.
    text = (
        "Intro\n![x](a.png)\nthen $x^$ and <b>\n\n"
        "- item\n  ![y](b.png)\n\n"
        "| a |\n|---|\n| ![z](c.png) |"
    )
    assert render_field(text).findings == (
        Finding("image", "a.png", 1),
        Finding("math", "x^", 2),
        Finding("html", "<b>", 2),
        Finding("image", "b.png", 5),
        Finding("image", "c.png", 9),
    )
    assert render_field("q $a\nb$ then\n![x](a.png)", inline=True).findings[-1].line == 2


@pytest.mark.parametrize("text", ["It costs $5 and $6.", "a $ b $ c", r"escaped \$x\$"])
def test_dollar_signs_that_are_not_math(text: str) -> None:
    rendered = render_field(text)
    assert "math" not in rendered.html
    assert not [f for f in rendered.findings if f.kind == "math"]


def test_math_inside_code_is_code() -> None:
    assert to_html("`$x$`") == "<p><code>$x$</code></p>\n"


# --- escaping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        ("<b>bold</b> & more", "<p>&lt;b&gt;bold&lt;/b&gt; &amp; more</p>\n"),
        ("<div>\nblock\n</div>", "<p>&lt;div&gt;\nblock\n&lt;/div&gt;</p>\n"),
        (
            '<img src=x onerror="alert(1)">',
            "<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>\n",
        ),
        ("<!-- hidden -->", "<p>&lt;!-- hidden --&gt;</p>\n"),
        ("&lt; stays &amp;", "<p>&lt; stays &amp;</p>\n"),
    ],
)
def test_raw_html_is_shown_as_text(text: str, expected: str) -> None:
    assert to_html(text) == expected


def test_raw_html_is_a_finding() -> None:
    found = render_field("Line one\n\nUse <b>this</b>.").findings
    assert found == (Finding("html", "<b>", 2), Finding("html", "</b>", 2))
    assert render_field("a < b and c > d").findings == ()


@pytest.mark.parametrize(
    "text",
    [
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](vbscript:msgbox)",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
        "![x](javascript:alert(1))",
    ],
)
def test_dangerous_links_are_not_rendered_as_links(text: str) -> None:
    html = to_html(text)
    assert "<a " not in html and "<img" not in html
    assert "href" not in html


def test_safe_links_are_links() -> None:
    assert to_html("[docs](https://example.com/a?b=1&c=2)") == (
        '<p><a href="https://example.com/a?b=1&amp;c=2">docs</a></p>\n'
    )


# --- code ----------------------------------------------------------------------------


def test_code_is_highlighted_with_pygments_classes() -> None:
    html = to_html('```python\nx = "<b>"\n```')
    assert html.startswith('<div class="highlight language-python"><pre>')
    assert '<span class="n">x</span>' in html
    assert '<span class="s2">&quot;&lt;b&gt;&quot;</span>' in html or (
        '<span class="s2">"&lt;b&gt;"</span>' in html
    )
    assert "style=" not in html  # CSS classes, no inline colours
    assert "<b>" not in html


def test_unknown_language_falls_back_to_plain_escaped_code() -> None:
    html = to_html("```nosuchlang\n<x> & y\n```")
    assert html == (
        '<pre class="code"><code class="language-nosuchlang">&lt;x&gt; &amp; y\n</code></pre>\n'
    )
    assert render_field("```nosuchlang\nx\n```").findings == (Finding("code", "nosuchlang", 0),)


def test_hostile_language_name_is_escaped() -> None:
    html = to_html('```x"onmouseover="alert(1)\ncode\n```')
    assert 'onmouseover="' not in html
    assert "&quot;" in html


def test_code_without_language_and_indented_code_are_plain() -> None:
    assert to_html("```\n<x>\n```") == '<pre class="code"><code>&lt;x&gt;\n</code></pre>\n'
    assert to_html("    <x>") == '<pre class="code"><code>&lt;x&gt;\n</code></pre>\n'
    assert render_field("```\nx\n```").findings == ()


@pytest.mark.parametrize(
    ("language", "known"),
    [
        ("python", True),
        ("Python", True),
        ("py", True),
        ("js", True),
        ("bash", True),
        ("pyhton", False),
        ("", False),
    ],
)
def test_known_language(language: str, known: bool) -> None:
    assert markup.known_language(language) is known


def test_pygments_css_uses_classes() -> None:
    css = markup.pygments_css("default")
    assert ".highlight .n" in css or ".highlight .k" in css


# --- images --------------------------------------------------------------------------


def test_images_keep_their_source_relative_src() -> None:
    rendered = render_field('Look:\n\n![A <plot>](images/loss.png "title")')
    assert '<img src="images/loss.png" alt="A &lt;plot&gt;">' in rendered.html
    assert Finding("image", "images/loss.png", 2) in rendered.findings


def test_image_src_is_attribute_escaped() -> None:
    html = to_html('![x](images/a&b.png) ![y](<images/a"b.png>)')
    assert 'src="images/a&amp;b.png"' in html
    assert 'src="images/a%22b.png"' in html


# --- helpers -------------------------------------------------------------------------


def test_rendered_field_round_trips_through_json() -> None:
    rendered = render_field("Use $x$ and ![a](b.png) and <i>.")
    assert RenderedField.from_json(rendered.to_json()) == rendered


def test_word_count_and_plain_text() -> None:
    assert markup.word_count("It's a **well-known** trick: $x^2 + y$ counts once.") == 7
    assert markup.plain_text("<p>a &amp; <b>b</b></p>").split() == ["a", "&", "b"]


# --- latex_error ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "latex",
    [
        r"\frac{\partial L}{\partial w}",
        r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
        r"\left\langle x \right\rangle",
        r"\left.\frac{a}{b}\right|",
        r"\mathbb{R}^{n \times m}",
        r"\operatorname*{arg\,max}_x f(x)",
        r"\{ x \}",
        r"a \\ b",
        "a < b",
    ],
)
def test_latex_that_parses(latex: str) -> None:
    assert latex_error(latex) is None


@pytest.mark.parametrize(
    ("latex", "problem"),
    [
        ("", "empty formula"),
        ("  ", "empty formula"),
        ("a\\", "a lone backslash at the end"),
        ("{", "unbalanced braces: '{' without '}'"),
        (r"\frac{1}{2}}{", "unbalanced braces: '}' without '{'"),
        ("a^^b", "'^' without an argument"),
        ("x^ ", "'^' without an argument"),
        ("x_}", "'_' without an argument"),
        (r"\begin{x}", "\\begin{x} without \\end"),
        (r"\begin{a} \end{b}", "\\end{b} without a matching \\begin"),
        (r"\begin x", "\\begin without an environment name"),
        (r"\left( x", "\\left without \\right"),
        (r"\right)", "\\right without \\left"),
        (r"\unknowncommand", "unknown command \\unknowncommand"),
        ("a_{b}_{c}", "double subscripts"),
    ],
)
def test_latex_that_does_not_parse(latex: str, problem: str) -> None:
    assert latex_error(latex) == problem


@pytest.mark.parametrize("latex", ["{" * 3000 + "}" * 3000, r"\sqrt{" * 2000 + "x" + "}" * 2000])
def test_latex_error_survives_deep_nesting(latex: str) -> None:
    assert isinstance(latex_error(latex), str)
