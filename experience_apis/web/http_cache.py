"""Conditional GETs for web availability: a strong ETag from the body's bytes, 304 when the shopper
already holds it (RFC 9110 §8.8.3, §13.1.2), and the caching headers of both answers."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import flask

_ENTITY_TAG = re.compile(r'(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")')
#: Shared caches may keep an answer only for callers presenting the same key (see cache_control).
VARY = "Authorization, X-API-Key"


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names `etag` (weak comparison, as the RFC asks for this header) or is "*"."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag.removeprefix("W/") in _ENTITY_TAG.findall(if_none_match)


def cache_control(max_age: int) -> str:
    """`public`: the answer is the same for every web client (bands and capped quantities only, nothing
    about the caller), so a CDN in front of the gateway may absorb a hot product page. A response to a
    request with Authorization may be stored by a shared cache only when marked public (RFC 9111 §3.5),
    and `Vary` keeps the stored copy for callers presenting the same key: no key, no cached answer."""
    return f"public, max-age={max_age}"


@dataclass(frozen=True)
class Document:
    """A JSON body and its strong ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, payload) -> Document:
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        return cls(body, strong_etag(body))


def conditional_json(document: Document, *, max_age: int) -> flask.Response:
    """200 with the document, or 304 with no body when If-None-Match already names it."""
    headers = {"ETag": document.etag, "Cache-Control": cache_control(max_age), "Vary": VARY}
    if none_match(flask.request.headers.get("If-None-Match"), document.etag):
        return flask.Response(status=304, headers=headers)
    return flask.Response(document.body, status=200, headers=headers, content_type="application/json")
