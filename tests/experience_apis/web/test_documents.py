"""The web API's availability document cache: fresh for its lifetime, then refreshed by one request
while the others get the previous document, never older than MAX_AGE_FACTOR lifetimes."""

from experience_apis.web.documents import MAX_AGE_FACTOR, DocumentCache
from experience_apis.web.http_cache import Document


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def make(ttl=1.0, size=10):
    clock = Clock()
    return DocumentCache(ttl, size, clock=clock), clock


def test_a_document_answers_its_question_for_its_lifetime_only_the_first_asker_then_refreshes():
    cache, clock = make()
    old, new = Document.of({"n": 1}), Document.of({"n": 2})
    assert cache.get("q") is None  # never made: the asker computes it
    cache.put("q", old)
    clock.now += 0.9
    assert cache.get("q") is old
    clock.now += 0.2  # stale now
    assert cache.get("q") is None  # this request refreshes it...
    assert cache.get("q") is old and cache.get("q") is old  # ...the others meanwhile get the previous one
    cache.put("q", new)
    assert cache.get("q") is new
    assert cache.get("other") is None


def test_a_refresh_that_never_comes_back_stops_holding_the_others_after_the_age_bound():
    cache, clock = make()
    cache.put("q", Document.of({"n": 1}))
    clock.now += 1.5
    assert cache.get("q") is None  # the refresher fails and never puts
    clock.now += MAX_AGE_FACTOR - 1.5
    assert cache.get("q") is None and cache.get("q") is None  # too old: everyone computes


def test_the_cache_keeps_at_most_its_size_dropping_the_least_recently_made():
    cache, _ = make(size=2)
    for question in ("a", "b", "c"):
        cache.put(question, Document.of({"q": question}))
    assert cache.get("a") is None and cache.get("b") is not None and cache.get("c") is not None
