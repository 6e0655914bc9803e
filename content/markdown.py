"""Markdown to sanitized HTML, the one way content bodies become HTML.

markdown-it-py renders CommonMark (plus tables and strikethrough) with raw HTML turned
off, so `<script>` typed in a body is text; nh3 (Rust's ammonia) then keeps only an
allow-list of tags and attributes and only http(s)/mailto links, as a second wall.
Images are not allowed: the Content-Security-Policy admits nothing from another origin.
"""

import nh3
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "a", "ul", "ol", "li",
    "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
}


def markdown_to_html(text: str) -> str:
    html = _renderer.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "code": {"class"}, "ol": {"start"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
