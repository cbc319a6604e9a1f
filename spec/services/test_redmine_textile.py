import pytest

from services.redmine.textile import html_to_textile


@pytest.mark.parametrize(
    ("html", "textile"),
    [
        ("", ""),
        (None, ""),
        ("<h1>Export</h1><h3> Bulk   export </h3>", "h1. Export\n\nh3. Bulk export"),
        (
            "<p><strong>all</strong> <b>of</b> <em>them</em> <i>now</i> <del>not</del></p>",
            "*all* *of* _them_ _now_ -not-",
        ),
        (
            '<p>See <a href="https://x.example.com/a">the spec</a>.</p>',
            'See "the spec":https://x.example.com/a.',
        ),
        (
            '<p><a href="https://x.example.com">https://x.example.com</a></p>',
            "https://x.example.com",
        ),
        ("<p>Use <code>rake db</code> &amp; wait</p>", "Use @rake db@ & wait"),
        ("<ul><li>CSV</li><li>PDF</li></ul>", "* CSV\n* PDF"),
        ("<ol><li>One</li><li># of users</li></ol>", "# One\n# # of users"),
        (
            "<ul><li>Formats<ol><li>CSV</li><li>PDF</li></ol></li><li><p>Later</p></li></ul>",
            "* Formats\n*# CSV\n*# PDF\n* Later",
        ),
        ("<pre><code>x = 1\ny = 2</code></pre>", "bc. x = 1\ny = 2"),
        ("<pre>a\n\nb</pre>", "<pre>\na\n\nb\n</pre>"),
        (
            "<table><thead><tr><th>Format</th><th>Size</th></tr></thead>"
            "<tbody><tr><td>CSV</td><td>1 <b>MB</b></td></tr></tbody></table>",
            "|_. Format|_. Size|\n|CSV|1 *MB*|",
        ),
        ("<p>line one<br>line two</p><p>next</p>", "line one\nline two\n\nnext"),
        ("<blockquote><p>quoted</p></blockquote>", "bq. quoted"),
        (
            '<p><img src="https://x.example.com/a.png" alt="chart"></p>',
            "!https://x.example.com/a.png(chart)!",
        ),
    ],
)
def test_html_to_textile(html, textile):
    assert html_to_textile(html) == textile
