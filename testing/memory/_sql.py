"""The slice of ksqlDB's SQL the fake ksqlDB reads: a tokenizer, the pull-query grammar
(``SELECT cols FROM t [WHERE c op lit [AND ...]] [LIMIT n]``) and the few statements
``POST /ksql`` answers. Names are resolved against the catalog by ``ksqldb.py``.

Errors are ``KSQLDBError`` with ksqlDB's codes and messages modelled on its ANTLR parser's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openfactory.errors import KSQLDBError

BAD_REQUEST = 40000
STATEMENT_ERROR = 40001
QUERY_ENDPOINT_ERROR = 40002

_SYMBOL_TEXT = "<> != <= >= || = < > , * ( ) ; . + - / % [ ] : { }"
_SYMBOLS = _SYMBOL_TEXT.split()  # two-character symbols first: the longest match wins
# Words that cannot name a column or a source without quoting (ksqlDB reserves them too).
_RESERVED_WORDS = (
    "SELECT FROM WHERE AND OR NOT LIMIT GROUP BY HAVING JOIN INNER LEFT RIGHT FULL OUTER CROSS "
    "ON WINDOW PARTITION EMIT AS DISTINCT NULL TRUE FALSE IN IS LIKE BETWEEN ORDER UNION CASE "
    "WHEN THEN ELSE END EXISTS"
)
_RESERVED = frozenset(_RESERVED_WORDS.split())
_STATEMENT_WORDS = (
    "CREATE DROP INSERT TERMINATE PRINT EXPLAIN SET UNSET DEFINE UNDEFINE ALTER PAUSE RESUME "
    "ASSERT RUN SHOW LIST DESCRIBE"
)
_STATEMENTS = frozenset(_STATEMENT_WORDS.split())
_JOINS = ("JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "OUTER")
_CLAUSES = {
    "GROUP": "GROUP BY",
    "HAVING": "HAVING",
    "WINDOW": "WINDOW",
    "PARTITION": "PARTITION BY",
}
_LITERAL_WORDS = ("TRUE", "FALSE", "NULL")
_NOT_A_CONDITION = "the fake ksqlDB supports WHERE <column> (=|!=|<>) <literal> [AND ...] only"


def sql_error(message: str, code: int = STATEMENT_ERROR) -> KSQLDBError:
    """A ``KSQLDBError`` as ksqlDB answers it (HTTP 400)."""
    return KSQLDBError(message, code, 400)


@dataclass(frozen=True, slots=True)
class Token:
    """One lexeme: ``kind`` is word, quoted, string, number, symbol or eof."""

    kind: str
    text: str  # word: upper-cased; quoted: as written; string: the value; others: the source
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        """True for an unquoted word among ``words``."""
        return self.kind == "word" and self.text in words

    def is_symbol(self, *symbols: str) -> bool:
        """True for a symbol among ``symbols`` (never for a string that spells one)."""
        return self.kind == "symbol" and self.text in symbols


@dataclass(frozen=True, slots=True)
class Ident:
    """A column or source name: unquoted names are upper-cased, quoted ones kept as written."""

    name: str
    at: str  # "line L:C", to prefix errors found when resolving the name


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant with its ksqlDB type name (STRING, INTEGER, BIGINT, DECIMAL, DOUBLE, ...)."""

    type: str
    value: Any
    text: str


@dataclass(frozen=True, slots=True)
class Condition:
    """``column op literal`` where ``op`` is ``=`` or ``!=``."""

    column: Ident
    op: str
    literal: Literal


@dataclass(frozen=True, slots=True)
class PullQuery:
    """A parsed pull query; ``columns`` is ``None`` for ``SELECT *``."""

    columns: tuple[Ident, ...] | None
    source: Ident
    where: tuple[Condition, ...]
    limit: int | None


@dataclass(frozen=True, slots=True)
class Statement:
    """A ``/ksql`` statement: ``kind`` is describe, streams or tables."""

    kind: str
    text: str
    target: Ident | None = None
    extended: bool = False


def position(sql: str, offset: int) -> str:
    """``line L:C`` (1-based) of ``offset`` in ``sql``, as ksqlDB prefixes its errors."""
    line_start = sql.rfind("\n", 0, offset) + 1
    return f"line {sql.count(chr(10), 0, offset) + 1}:{offset - line_start + 1}"


def tokenize(sql: str) -> list[Token]:
    """Split ``sql`` into tokens, the last one eof; raises ``KSQLDBError`` on a bad lexeme."""
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch, kind = sql[i], "symbol"
        if ch.isspace():
            i += 1
            continue
        if sql.startswith("--", i):
            i = n if sql.find("\n", i) < 0 else sql.find("\n", i)
            continue
        if ch in "'\"`":
            end, text = _quoted(sql, i)
            kind = "string" if ch == "'" else "quoted"
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            end = _scan(sql, i + 1, lambda c: c.isalnum() or c in "_@$")
            kind, text = "word", sql[i:end].upper()
        elif (ch.isascii() and ch.isdecimal()) or (ch == "." and _digit(sql, i + 1)):
            end = _scan(sql, i, str.isdecimal)
            if sql.startswith(".", end):
                end = _scan(sql, end + 1, str.isdecimal)
            if sql[end : end + 1] in ("e", "E"):
                sign = sql[end + 1 : end + 2] in ("+", "-")
                if _digit(sql, end + 1 + sign):
                    end = _scan(sql, end + 1 + sign, str.isdecimal)
            kind, text = "number", sql[i:end]
        else:
            text = next((s for s in _SYMBOLS if sql.startswith(s, i)), "")
            if not text:
                raise sql_error(f"{position(sql, i)}: token recognition error at: '{ch}'")
            end = i + len(text)
        tokens.append(Token(kind, text, i, end))
        i = end
    tokens.append(Token("eof", "<EOF>", n, n))
    return tokens


def _digit(sql: str, i: int) -> bool:
    return sql[i : i + 1].isascii() and sql[i : i + 1].isdecimal()


def _scan(sql: str, i: int, accept: Any) -> int:
    while i < len(sql) and sql[i].isascii() and accept(sql[i]):
        i += 1
    return i


def _quoted(sql: str, start: int) -> tuple[int, str]:
    quote, parts, i = sql[start], [], start + 1
    while True:
        close = sql.find(quote, i)
        if close < 0:
            what = "string literal" if quote == "'" else "quoted identifier"
            raise sql_error(f"{position(sql, start)}: token recognition error at: "
                            f"'{sql[start:]}' (unterminated {what})")  # fmt: skip
        parts.append(sql[i:close])
        if not sql.startswith(quote * 2, close):
            return close + 1, "".join(parts)
        parts.append(quote)  # a doubled quote stands for one
        i = close + 2


class _Parser:
    def __init__(self, sql: str, tokens: list[Token]) -> None:
        self.sql, self.tokens, self.i = sql, tokens, 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def accept(self, word_or_symbol: str) -> bool:
        token = self.peek()
        if token.kind in ("word", "symbol") and token.text == word_or_symbol:
            self.take()
            return True
        return False

    def shown(self, token: Token) -> str:
        return "'<EOF>'" if token.kind == "eof" else f"'{self.sql[token.start : token.end]}'"

    def fail(self, token: Token, message: str, code: int = STATEMENT_ERROR) -> KSQLDBError:
        return sql_error(f"{position(self.sql, token.start)}: {message}", code)

    def mismatched(self, token: Token, expecting: str) -> KSQLDBError:
        return self.fail(token, f"mismatched input {self.shown(token)} expecting {expecting}")

    def expect(self, word: str) -> None:
        if not self.accept(word):
            raise self.mismatched(self.peek(), word)

    def ident(self, what: str) -> Ident:
        token = self.peek()
        if token.kind == "quoted" or (token.kind == "word" and token.text not in _RESERVED):
            self.take()
            return Ident(token.text, position(self.sql, token.start))
        raise self.mismatched(token, what)

    def end(self, semicolon_required: bool) -> None:
        if not self.accept(";") and semicolon_required:
            raise self.mismatched(self.peek(), "';'")
        if self.peek().kind != "eof":
            extraneous = f"extraneous input {self.shown(self.peek())} expecting {{';', <EOF>}}"
            raise self.fail(self.peek(), extraneous)


def parse_pull_query(sql: str) -> PullQuery:
    """Parse one pull query (final ``;`` optional); raises ``KSQLDBError`` naming the bad token."""
    p = _Parser(sql, tokenize(sql))
    if p.peek().kind == "word" and p.peek().text in _STATEMENTS:
        message = f"{p.peek().text} is not a query: /query answers pull queries only; use /ksql"
        raise p.fail(p.peek(), message, QUERY_ENDPOINT_ERROR)
    p.expect("SELECT")
    if p.peek().is_word("DISTINCT", "ALL"):
        raise p.fail(p.peek(), f"SELECT {p.peek().text} is not supported by ksqlDB")
    columns = None if p.accept("*") else _select_list(p)
    p.expect("FROM")
    source = p.ident("a table name")
    join = next((t for t in p.tokens[p.i :] if t.is_word(*_JOINS) or t.is_symbol(",")), None)
    if join is not None:
        raise p.fail(join, "Pull queries don't support JOIN clauses.")
    where = [_condition(p)] if p.accept("WHERE") else []
    while where and p.accept("AND"):
        where.append(_condition(p))
    token = p.peek()
    if token.is_word("OR"):
        raise p.fail(token, "Only AND expressions are supported in the WHERE clause of a pull "
                     "query on the fake ksqlDB: run one query per alternative")  # fmt: skip
    if token.kind == "word" and token.text in _CLAUSES:
        raise p.fail(token, f"Pull queries don't support {_CLAUSES[token.text]} clauses.")
    if token.is_word("EMIT"):
        raise p.fail(token, "EMIT CHANGES makes this a push query; the fake ksqlDB answers "
                     "pull queries only", QUERY_ENDPOINT_ERROR)  # fmt: skip
    limit = None
    if p.accept("LIMIT"):
        if p.peek().kind != "number" or not p.peek().text.isdecimal():
            raise p.mismatched(p.peek(), "a non-negative integer")
        limit = int(p.take().text)
    p.end(semicolon_required=False)
    return PullQuery(columns, source, tuple(where), limit)


def _select_list(p: _Parser) -> tuple[Ident, ...]:
    columns = [_column(p, "SELECT")]
    while p.accept(","):
        columns.append(_column(p, "SELECT"))
    if p.peek().kind in ("word", "quoted") and not p.peek().is_word("FROM"):
        raise p.fail(p.peek(), "column aliases are not supported by the fake ksqlDB")
    return tuple(columns)


def _column(p: _Parser, clause: str) -> Ident:
    token = p.peek()
    if p.peek(1).is_symbol("(") and token.kind in ("word", "quoted"):
        raise p.fail(token, f"function {p.shown(token)} is not supported in the {clause} "
                     "clause of a pull query on the fake ksqlDB: use plain columns")  # fmt: skip
    if token.is_symbol("*"):
        raise p.fail(token, "'*' must be the only item of the SELECT list")
    column = p.ident("a column name" if clause == "WHERE" else "'*' or a column name")
    if p.peek().is_symbol("."):
        raise p.fail(p.peek(), "qualified column names are not supported by the fake ksqlDB")
    return column


def _condition(p: _Parser) -> Condition:
    first = p.peek()
    left = _operand(p)
    op = p.take()
    if not op.is_symbol("=", "!=", "<>"):
        if op.kind == "symbol" or op.is_word(*_RESERVED):
            raise p.fail(op, f"comparison {p.shown(op)} is not supported: {_NOT_A_CONDITION}")
        raise p.mismatched(op, "'=', '!=' or '<>'")
    right = _operand(p)
    if isinstance(left, Ident) == isinstance(right, Ident):
        raise p.fail(first, f"a condition compares one column with one literal: {_NOT_A_CONDITION}")
    column, literal = (left, right) if isinstance(left, Ident) else (right, left)
    assert isinstance(column, Ident) and isinstance(literal, Literal)
    return Condition(column, "=" if op.text == "=" else "!=", literal)


def _operand(p: _Parser) -> Ident | Literal:
    token = p.peek()
    if token.is_symbol("(") or token.is_word("NOT"):
        raise p.fail(token, _NOT_A_CONDITION)
    if token.kind == "quoted" or (token.kind == "word" and token.text not in _LITERAL_WORDS):
        return _column(p, "WHERE")
    return _literal(p)


def _literal(p: _Parser) -> Literal:
    negative = p.peek().is_symbol("-") and p.peek(1).kind == "number"
    if negative:
        p.take()
    token = p.take()
    text = ("-" if negative else "") + token.text
    if token.kind == "string":
        return Literal("STRING", token.text, p.sql[token.start : token.end])
    if token.is_word("TRUE", "FALSE", "NULL"):
        kind = "NULL" if token.text == "NULL" else "BOOLEAN"
        return Literal(kind, None if kind == "NULL" else token.text == "TRUE", token.text)
    if token.kind != "number":
        raise p.mismatched(token, "a column name or a literal")
    if "e" in text.lower():
        return Literal("DOUBLE", float(text), text)
    if "." in text:
        return Literal("DECIMAL", text, text)
    if not -(2**63) <= int(text) < 2**63:
        raise p.fail(token, f"numeric literal {text} is out of range for BIGINT")
    return Literal("INTEGER" if -(2**31) <= int(text) < 2**31 else "BIGINT", int(text), text)


def parse_statements(sql: str) -> list[Statement]:
    """Parse the ``;``-terminated statements of a ``/ksql`` request; raises ``KSQLDBError``."""
    tokens = tokenize(sql)
    statements: list[Statement] = []
    begin = 0
    for index, token in enumerate(tokens):
        if token.is_symbol(";"):
            group = [*tokens[begin : index + 1], Token("eof", "<EOF>", token.end, token.end)]
        elif token.kind == "eof" and index > begin:
            group = tokens[begin : index + 1]
        else:
            continue
        statements.append(_statement(sql, group))
        begin = index + 1
    if not statements:
        raise sql_error(f"no statement to run in {sql!r}: end each statement with ';'", BAD_REQUEST)
    return statements


def _statement(sql: str, tokens: list[Token]) -> Statement:
    p = _Parser(sql, tokens)
    first = p.take()
    text = sql[first.start : tokens[-1].end].strip()
    if first.is_word("DESCRIBE", "SHOW", "LIST"):
        target = p.ident("a stream or table name") if first.text == "DESCRIBE" else None
        what = p.take() if target is None else first
        if not what.is_word("DESCRIBE", "STREAMS", "TABLES"):
            raise p.fail(what, f"{first.text} {p.shown(what)} is not supported by the fake "
                         "ksqlDB: use SHOW STREAMS or SHOW TABLES")  # fmt: skip
        extended = p.accept("EXTENDED")
        p.end(semicolon_required=True)
        return Statement(what.text.lower(), text, target, extended)
    if first.is_word("SELECT"):
        raise sql_error(
            "The following statement types should be issued to the websocket endpoint "
            "'/query':\n\t* PRINT\n\t* SELECT",
            QUERY_ENDPOINT_ERROR,
        )
    if first.kind == "word" and first.text in _STATEMENTS:
        raise p.fail(first, f"the fake ksqlDB does not run {first.text} statements: it answers "
                     "DESCRIBE, SHOW/LIST STREAMS and SHOW/LIST TABLES")  # fmt: skip
    raise p.mismatched(first, "a statement (DESCRIBE, SHOW, LIST, ...)")
