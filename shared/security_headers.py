"""The security headers on every answer of every app (errors, documents and /metrics included)."""

from __future__ import annotations

import flask

#: Scripts, styles, images and fetches from the gateway itself only: Swagger UI is served from here (see
#: shared.swagger_ui) and runs no inline script. Inline styles stay allowed: Swagger UI sets style
#: attributes on what it renders. No page of ours may be framed (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
}


def init_app(app: flask.Flask) -> None:
    """Add the security headers to every response of `app`."""
    app.after_request(add_headers)


def add_headers(response: flask.Response) -> flask.Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
