"""The OData v2 `$filter` language of the simulator, parsed once per request into a predicate.

Supported: eq ne gt ge lt le, and or not, parentheses, substringof, startswith, endswith, tolower,
toupper, trim, length; string, number, true/false/null, datetime'…' and time'…' literals. A
literal compared with a property takes the property's type ('/Date(ms)/' and ISO strings work on
date fields, numbers and numeric strings on decimals); a mismatch or anything unsupported
(arithmetic, navigation paths, other functions) is a 400 SAP error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal, InvalidOperation

from simulators.sap.entities import BOOLEAN, DATETIME, DECIMAL, STRING, TIME, EntityType
from simulators.sap.errors import ODataError
from simulators.sap.stock import parse_date


def bad_request(message: str, code: str = "/IWBEP/CM_MGW_RT/022") -> ODataError:
    return ODataError(400, code, message, details=[(code, message)])


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<typed>(?:datetimeoffset|datetime|time|guid)'[^']*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),/])
  | (?P<op>=)
""",
    re.X,
)
_COMPARISONS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}
_FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "substringof": (2, lambda needle, hay: needle is not None and hay is not None and needle in hay),
    "startswith": (2, lambda hay, prefix: hay is not None and prefix is not None and hay.startswith(prefix)),
    "endswith": (2, lambda hay, suffix: hay is not None and suffix is not None and hay.endswith(suffix)),
    "tolower": (1, lambda s: None if s is None else s.lower()),
    "toupper": (1, lambda s: None if s is None else s.upper()),
    "trim": (1, lambda s: None if s is None else s.strip()),
    "length": (1, lambda s: None if s is None else Decimal(len(s))),
}
_UNSUPPORTED_OPERATORS = frozenset({"add", "sub", "mul", "div", "mod", "isof", "cast", "any", "all"})


def typed_literal(text: str):
    prefix, raw = text.split("'", 1)
    raw = raw[:-1]
    try:
        if prefix in ("datetime", "datetimeoffset"):
            return parse_date(raw)
        if prefix == "time":
            match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?", raw)
            if not match:
                raise ValueError(raw)
            hours, minutes, seconds = (int(g or 0) for g in match.groups())
            return time(hours, minutes, seconds)
    except ValueError:
        raise bad_request(f"Invalid literal {text}") from None
    return raw


def tokenize(text: str) -> list[tuple[str, object]]:
    tokens: list[tuple[str, object]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise bad_request(f"Invalid token at position {position} in '{text}'")
        position = match.end()
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        value = match.group()
        if kind == "space":
            continue
        if kind == "string":
            tokens.append(("string", value[1:-1].replace("''", "'")))
        elif kind == "typed":
            tokens.append(("typed", typed_literal(value)))
        elif kind == "number":
            tokens.append(("number", Decimal(value.rstrip("mMdDfFlL"))))
        else:
            tokens.append((kind, value))
    return tokens


class _FilterParser:
    """Recursive descent: or < and < not < comparison < primary."""

    def __init__(self, text: str, entity: EntityType) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.entity = entity
        self.text = text

    def parse(self):
        node = self._or()
        if self.index != len(self.tokens):
            raise bad_request(f"Unexpected '{self.tokens[self.index][1]}' in $filter '{self.text}'")
        return node

    def _peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else (None, None)

    def _take(self):
        token = self._peek()
        self.index += 1
        return token

    def _keyword(self, word: str) -> bool:
        kind, value = self._peek()
        if kind == "name" and str(value).lower() == word:
            self.index += 1
            return True
        return False

    def _or(self):
        node = self._and()
        while self._keyword("or"):
            node = ("or", node, self._and())
        return node

    def _and(self):
        node = self._not()
        while self._keyword("and"):
            node = ("and", node, self._not())
        return node

    def _not(self):
        if self._keyword("not"):
            return ("not", self._not())
        return self._comparison()

    def _comparison(self):
        left = self._primary()
        kind, value = self._peek()
        if kind == "name" and str(value).lower() in _COMPARISONS:
            self.index += 1
            right = self._primary()
            return ("cmp", str(value).lower(), *_coerce(left, right, self.entity))
        if kind == "name" and str(value).lower() in _UNSUPPORTED_OPERATORS:
            raise bad_request(f"Operator '{value}' is not supported in $filter")
        return left

    def _primary(self):
        kind, value = self._take()
        if kind == "punct" and value == "(":
            node = self._or()
            if self._take() != ("punct", ")"):
                raise bad_request(f"Missing ')' in $filter '{self.text}'")
            return node
        if kind in ("string", "number", "typed"):
            return ("lit", value)
        if kind == "name":
            lowered = str(value).lower()
            if lowered in ("true", "false"):
                return ("lit", lowered == "true")
            if lowered == "null":
                return ("lit", None)
            if self._peek() == ("punct", "("):
                return self._call(lowered)
            if self._peek() == ("punct", "/"):
                raise bad_request("Navigation paths are not supported in $filter")
            prop = self.entity.property(str(value))
            if prop is None:
                raise bad_request(f"Property {value} not found in type {self.entity.name}")
            return ("prop", prop.name, prop.edm_type)
        raise bad_request(f"Invalid $filter '{self.text}'")

    def _call(self, name: str):
        if name not in _FUNCTIONS:
            raise bad_request(f"Function '{name}' is not supported in $filter")
        self._take()
        args = [self._or()]
        while self._peek() == ("punct", ","):
            self._take()
            args.append(self._or())
        if self._take() != ("punct", ")"):
            raise bad_request(f"Missing ')' after arguments of {name}")
        arity, _ = _FUNCTIONS[name]
        if len(args) != arity:
            raise bad_request(f"Function {name} takes {arity} argument(s)")
        return ("call", name, args)


def _coerce(left, right, entity: EntityType):
    """Convert a literal compared with a property to the property's type (400 when impossible)."""

    def convert(node, edm_type):
        if node[0] != "lit" or node[1] is None:
            return node
        value = node[1]
        try:
            if edm_type == DECIMAL and not isinstance(value, bool):
                return ("lit", Decimal(str(value)))
            if edm_type == DATETIME and isinstance(value, str):
                return ("lit", parse_date(value))
            if edm_type == DATETIME and isinstance(value, datetime):
                return node
            if edm_type == STRING and isinstance(value, str):
                return node
            if edm_type == BOOLEAN and isinstance(value, bool):
                return node
            if edm_type == TIME and isinstance(value, time):
                return node
        except (InvalidOperation, ValueError):
            pass
        raise bad_request(
            f"Invalid parametertype used at function 'eq' ({value!r} for a {edm_type} field)",
            code="/IWBEP/CM_MGW_RT/004",
        )

    if left[0] == "prop":
        right = convert(right, left[2])
    if right[0] == "prop":
        left = convert(left, right[2])
    return left, right


def _evaluate(node, row: Mapping):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "prop":
        return row.get(node[1])
    if kind == "cmp":
        try:
            return _COMPARISONS[node[1]](_evaluate(node[2], row), _evaluate(node[3], row))
        except TypeError:
            raise bad_request("Operands of a comparison in $filter have incompatible types") from None
    if kind == "and":
        return bool(_evaluate(node[1], row)) and bool(_evaluate(node[2], row))
    if kind == "or":
        return bool(_evaluate(node[1], row)) or bool(_evaluate(node[2], row))
    if kind == "not":
        return not _evaluate(node[1], row)
    _, function = _FUNCTIONS[node[1]]
    try:
        return function(*(_evaluate(arg, row) for arg in node[2]))
    except (TypeError, AttributeError):
        raise bad_request(f"Invalid argument types for {node[1]} in $filter") from None


#: The most whole keys a $filter is looked up by; a longer list is read by testing every row.
MAX_KEY_LOOKUPS = 1000


@dataclass(frozen=True)
class Filter:
    """A parsed $filter: a predicate on rows, and `keys`, the whole keys (in the entity's key order)
    the rows it selects must have, when the filter says so by key equalities joined with `or` and
    `and`; None otherwise. A read may then look the rows up by key, as SAP's database uses its
    primary index, instead of testing every row; the predicate still decides."""

    tree: tuple
    keys: tuple[tuple, ...] | None

    def __call__(self, row: Mapping) -> bool:
        return bool(_evaluate(self.tree, row))


def _key_alternatives(node, key_names: frozenset[str]) -> list[dict] | None:
    """Each alternative assignment of key properties the node allows, or None for "any row"."""
    kind = node[0]
    if kind == "cmp" and node[1] == "eq":
        prop, literal = (node[2], node[3]) if node[2][0] == "prop" else (node[3], node[2])
        if prop[0] == "prop" and prop[1] in key_names and literal[0] == "lit" and isinstance(literal[1], str):
            return [{prop[1]: literal[1]}]
        return None
    if kind not in ("and", "or"):
        return None
    left, right = _key_alternatives(node[1], key_names), _key_alternatives(node[2], key_names)
    if kind == "or":  # restricted only when both sides are
        if left is None or right is None or len(left) + len(right) > MAX_KEY_LOOKUPS:
            return None
        return left + right
    if left is None or right is None:  # `and` is at least as narrow as either side
        return left if right is None else right
    if len(left) * len(right) > MAX_KEY_LOOKUPS:
        return None
    return [{**a, **b} for a in left for b in right if all(a.get(name, value) == value for name, value in b.items())]


def _whole_keys(tree, entity: EntityType) -> tuple[tuple, ...] | None:
    alternatives = _key_alternatives(tree, frozenset(entity.keys))
    if alternatives is None or any(len(alternative) != len(entity.keys) for alternative in alternatives):
        return None
    return tuple(dict.fromkeys(tuple(alternative[name] for name in entity.keys) for alternative in alternatives))


def parse_filter(text: str, entity: EntityType) -> Filter:
    tree = _FilterParser(text, entity).parse()
    return Filter(tree, _whole_keys(tree, entity))
