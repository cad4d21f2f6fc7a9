"""The SOQL subset the org answers: `SELECT f1, f2 FROM Object [WHERE f = v [AND f2 != v2 …]]
[ORDER BY f [ASC|DESC]] [LIMIT n]`, values being 'quoted text', numbers, true/false, null or
date-times. Anything else is a MALFORMED_QUERY, as Salesforce would say."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from simulators.salesforce.errors import RecordError, SalesforceError
from simulators.salesforce.schema import SObjectType
from simulators.salesforce.values import coerce

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>)|(?P<punct>[,()])"
    r"|(?P<word>[A-Za-z0-9_.:+\-]+))"
)
KEYWORDS = ("SELECT", "FROM", "WHERE", "AND", "ORDER", "BY", "ASC", "DESC", "LIMIT")


def malformed(message: str) -> SalesforceError:
    return SalesforceError(400, "MALFORMED_QUERY", message)


def field_name(sobject: SObjectType, name: str) -> str:
    """The field's own spelling of `name`; 400 INVALID_FIELD when the object has no such field."""
    field = sobject.field(name)
    if field is None:
        raise SalesforceError(
            400,
            "INVALID_FIELD",
            f"No such column '{name}' on entity '{sobject.name}'. If you "
            "are attempting to use a custom field, be sure to append the '__c' after the "
            "custom field name.",
        )
    return field.name


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: object  # the stored form (values.coerce), so comparisons match what records hold

    def matches(self, record: dict) -> bool:
        actual = record.get(self.field)
        if self.operator == "=":
            return _same(actual, self.value)
        if self.operator == "!=":
            return not _same(actual, self.value)
        if actual is None or self.value is None:
            return False
        return {
            "<": actual < self.value,
            ">": actual > self.value,
            "<=": actual <= self.value,
            ">=": actual >= self.value,
        }[self.operator]


def _same(actual, expected) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()  # SOQL's = on text ignores case
    return actual == expected


@dataclass(frozen=True)
class Query:
    sobject: SObjectType
    fields: tuple[str, ...]
    conditions: tuple[Condition, ...]
    order_by: str | None = None
    descending: bool = False
    limit: int | None = None

    def select(self, records: Iterable[dict]) -> list[dict]:
        """The records every condition holds for, ordered and cut to the LIMIT."""
        chosen = [r for r in records if all(c.matches(r) for c in self.conditions)]
        if self.order_by:
            # nulls first ascending, like Salesforce's default NULLS FIRST
            chosen.sort(key=lambda r: (r.get(self.order_by) is not None, r.get(self.order_by)), reverse=self.descending)
        return chosen if self.limit is None else chosen[: self.limit]

    def project(self, record: dict) -> dict:
        return {name: record.get(name) for name in self.fields}


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise malformed(f"unexpected token: '{text[position : position + 20]}'")
        tokens.append(match.group().strip())
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, objects) -> None:
        self.tokens, self.position, self.objects = _tokens(text), 0, objects

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise malformed("unexpected end of query")
        self.position += 1
        return token

    def keyword(self, word: str) -> bool:
        if (self.peek() or "").upper() == word:
            self.position += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            raise malformed(f"expecting '{word}', found '{self.peek() or 'end of query'}'")

    def field(self, sobject: SObjectType, name: str) -> str:
        return field_name(sobject, name)

    def value(self, sobject: SObjectType, field_name: str):
        token = self.take()
        if token.lower() == "null":
            return None
        raw = (
            token[1:-1].replace("\\'", "'").replace("\\\\", "\\")
            if token.startswith("'")
            else {"true": True, "false": False}.get(token.lower(), token)
        )
        try:
            return coerce(sobject.fields[field_name], raw)
        except RecordError:
            raise SalesforceError(
                400,
                "INVALID_QUERY_FILTER_OPERATOR",
                f"value of filter criterion for field '{field_name}' must be of type "
                f"{sobject.fields[field_name].type} and should not be enclosed in quotes"
                if token.startswith("'")
                else f"invalid value {token} for field '{field_name}'",
            ) from None

    def parse(self) -> Query:
        self.expect("SELECT")
        names = [self.take()]
        while self.peek() == ",":
            self.take()
            names.append(self.take())
        self.expect("FROM")
        object_name = self.take()
        sobject = self.objects(object_name)
        if sobject is None or sobject.event:
            raise SalesforceError(400, "INVALID_TYPE", f"sObject type '{object_name}' is not supported.")
        fields = tuple(self.field(sobject, n) for n in names)
        conditions = []
        if self.keyword("WHERE"):
            while True:
                name = self.field(sobject, self.take())
                operator = self.take()
                if operator not in ("=", "!=", "<", ">", "<=", ">="):
                    raise malformed(f"unexpected operator '{operator}'")
                conditions.append(Condition(name, operator, self.value(sobject, name)))
                if not self.keyword("AND"):
                    break
        order_by, descending = None, False
        if self.keyword("ORDER"):
            self.expect("BY")
            order_by = self.field(sobject, self.take())
            descending = self.keyword("DESC")
            if not descending:
                self.keyword("ASC")
        limit = None
        if self.keyword("LIMIT"):
            token = self.take()
            if not token.isdigit():
                raise malformed(f"LIMIT must be a non-negative integer, found '{token}'")
            limit = int(token)
        if self.peek() is not None:
            raise malformed(f"unexpected token: '{self.peek()}'")
        return Query(sobject, fields, tuple(conditions), order_by, descending, limit)


def parse(text: str, objects) -> Query:
    """Parse `text`; `objects(name)` gives the SObjectType called name, or None."""
    return _Parser(text, objects).parse()
