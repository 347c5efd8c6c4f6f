"""What keeps hostile mail harmless in a browser: a strict policy on every response, and
email HTML sanitised (nh3) and shown in a sandboxed frame that may run nothing and fetch nothing
from outside."""

from __future__ import annotations

import nh3

# No inline scripts, no remote anything; our own CSS and one small script file.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
# The frame that shows an email's HTML: not even our own scripts, no forms, no network.
FRAME_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "center",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
}
_ALLOWED_ATTRIBUTES = {
    "*": {"align", "valign", "width", "height", "colspan", "rowspan", "dir", "title"},
    "a": {"href"},
    "img": {"src", "alt"},
    "font": {"color", "face", "size"},
}


def _keep_safe_urls(tag: str, attribute: str, value: str) -> str | None:
    # Images only from data: URLs (cid: parts are not fetched); links shown, never followed
    # with the reader's cookies or referrer (the frame is sandboxed and has no referrer).
    if tag == "img" and attribute == "src":
        return value if value.startswith("data:image/") else None
    return value


def sanitize_email_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "data"},
        attribute_filter=_keep_safe_urls,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
