"""The fake ksqlDB's SQL reader: tokenizer, pull-query grammar and /ksql statements."""

from __future__ import annotations

import pytest

from openfactory.errors import KSQLDBError
from openfactory.testing.memory._sql import (
    Ident,
    Literal,
    parse_pull_query,
    parse_statements,
    position,
    tokenize,
)


def kinds(sql: str) -> list[tuple[str, str]]:
    return [(token.kind, token.text) for token in tokenize(sql)]


def reject(parse: object, sql: str) -> KSQLDBError:
    with pytest.raises(KSQLDBError) as caught:
        parse(sql)  # type: ignore[operator]
    return caught.value


# tokenizer ---------------------------------------------------------------------------------
def test_tokens_words_are_upper_cased_and_quoted_identifiers_kept() -> None:
    assert kinds('select `assets`, "Id" FROM t') == [
        ("word", "SELECT"),
        ("quoted", "assets"),
        ("symbol", ","),
        ("quoted", "Id"),
        ("word", "FROM"),
        ("word", "T"),
        ("eof", "<EOF>"),
    ]


def test_string_literals_unescape_doubled_quotes_and_keep_everything_else() -> None:
    assert kinds("'it''s' '' 'a\\b\n-- not a comment' 'é日本'")[:-1] == [
        ("string", "it's"),
        ("string", ""),
        ("string", "a\\b\n-- not a comment"),
        ("string", "é日本"),
    ]


def test_doubled_quotes_inside_quoted_identifiers() -> None:
    assert kinds('"a""b" `c``d`')[:-1] == [("quoted", 'a"b'), ("quoted", "c`d")]


def test_numbers_symbols_and_comments() -> None:
    assert kinds("1 2.50 .5 1e3 7E-2 <> != <= = -- trailing comment\n;")[:-1] == [
        ("number", "1"),
        ("number", "2.50"),
        ("number", ".5"),
        ("number", "1e3"),
        ("number", "7E-2"),
        ("symbol", "<>"),
        ("symbol", "!="),
        ("symbol", "<="),
        ("symbol", "="),
        ("symbol", ";"),
    ]


def test_unterminated_string_is_a_token_recognition_error_at_its_start() -> None:
    error = reject(tokenize, "SELECT * FROM assets WHERE ID = 'abc")
    assert error.error_code == 40001
    assert error.status_code == 400
    assert error.message.startswith("line 1:33: token recognition error at: ''abc'")
    assert "unterminated string literal" in error.message


def test_unterminated_quoted_identifier_and_unknown_character() -> None:
    assert "unterminated quoted identifier" in reject(tokenize, 'SELECT "ID FROM x').message
    error = reject(tokenize, "SELECT ID FROM assets WHERE ID = ?")
    assert error.message == "line 1:34: token recognition error at: '?'"


def test_position_counts_lines_and_columns_from_one() -> None:
    sql = "SELECT *\nFROM assets\n  WHERE"
    assert position(sql, 0) == "line 1:1"
    assert position(sql, sql.index("FROM")) == "line 2:1"
    assert position(sql, sql.index("WHERE")) == "line 3:3"


# pull queries ------------------------------------------------------------------------------
def test_select_star_with_conditions_limit_and_semicolon() -> None:
    query = parse_pull_query("select * from Assets where asset_uuid = 'A' and ID <> 'x' LIMIT 3;")
    assert query.columns is None
    assert query.source == Ident("ASSETS", "line 1:15")
    assert [(c.column.name, c.op, c.literal.value) for c in query.where] == [
        ("ASSET_UUID", "=", "A"),
        ("ID", "!=", "x"),
    ]
    assert query.limit == 3


def test_select_columns_without_semicolon_and_quoted_names() -> None:
    query = parse_pull_query('SELECT id, `VALUE`, "Tag" FROM assets')
    assert [c.name for c in query.columns or ()] == ["ID", "VALUE", "Tag"]
    assert query.where == ()
    assert query.limit is None


def test_bang_equal_and_literal_first_conditions() -> None:
    query = parse_pull_query("SELECT * FROM assets WHERE ID != 'a' AND 'b' = TAG")
    assert [(c.column.name, c.op, c.literal.value) for c in query.where] == [
        ("ID", "!=", "a"),
        ("TAG", "=", "b"),
    ]


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("'x'", Literal("STRING", "x", "'x'")),
        ("42", Literal("INTEGER", 42, "42")),
        ("-7", Literal("INTEGER", -7, "-7")),
        ("3000000000", Literal("BIGINT", 3000000000, "3000000000")),
        ("2.50", Literal("DECIMAL", "2.50", "2.50")),
        ("1e3", Literal("DOUBLE", 1000.0, "1e3")),
        ("true", Literal("BOOLEAN", True, "TRUE")),
        ("FALSE", Literal("BOOLEAN", False, "FALSE")),
        ("null", Literal("NULL", None, "NULL")),
    ],
)
def test_literals_carry_their_ksqldb_type(literal: str, expected: Literal) -> None:
    query = parse_pull_query(f"SELECT * FROM assets WHERE ID = {literal}")
    assert query.where[0].literal == expected


@pytest.mark.parametrize(
    ("sql", "code", "message"),
    [
        ("", 40001, "line 1:1: mismatched input '<EOF>' expecting SELECT"),
        ("SELEC * FROM assets", 40001, "mismatched input 'SELEC' expecting SELECT"),
        ("SELECT * assets", 40001, "line 1:10: mismatched input 'assets' expecting FROM"),
        ("SELECT FROM assets", 40001, "mismatched input 'FROM' expecting '*' or a column name"),
        ("SELECT * FROM", 40001, "mismatched input '<EOF>' expecting a table name"),
        ("SELECT ID, * FROM assets", 40001, "'*' must be the only item of the SELECT list"),
        ("SELECT DISTINCT ID FROM assets", 40001, "SELECT DISTINCT is not supported"),
        ("SELECT COUNT(*) FROM assets", 40001, "function 'COUNT' is not supported"),
        ("SELECT * FROM assets WHERE UCASE(ID) = 'X'", 40001, "function 'UCASE'"),
        ("SELECT ID AS I FROM assets", 40001, "line 1:11: column aliases are not supported"),
        ("SELECT assets.ID FROM assets", 40001, "qualified column names are not supported"),
        ("SELECT * FROM assets a JOIN assets_type t ON a.ASSET_UUID = t.ASSET_UUID", 40001,
         "line 1:24: Pull queries don't support JOIN clauses."),
        ("SELECT * FROM assets, assets_type", 40001, "Pull queries don't support JOIN"),
        ("SELECT * FROM assets WHERE ID = 'a' OR ID = 'b'", 40001,
         "line 1:37: Only AND expressions are supported"),
        ("SELECT ID FROM assets GROUP BY ID", 40001, "Pull queries don't support GROUP BY"),
        ("SELECT * FROM assets WHERE ID = 'a' HAVING 1", 40001, "don't support HAVING"),
        ("SELECT * FROM assets WINDOW TUMBLING (SIZE 1 SECOND)", 40001, "don't support WINDOW"),
        ("SELECT * FROM assets PARTITION BY ID", 40001, "don't support PARTITION BY"),
        ("SELECT * FROM assets EMIT CHANGES;", 40002, "EMIT CHANGES makes this a push query"),
        ("SELECT * FROM assets WHERE ID < 'a'", 40001, "comparison '<' is not supported"),
        ("SELECT * FROM assets WHERE ID LIKE 'a%'", 40001, "comparison 'LIKE' is not supported"),
        ("SELECT * FROM assets WHERE ID IN ('a')", 40001, "comparison 'IN' is not supported"),
        ("SELECT * FROM assets WHERE ID IS NULL", 40001, "comparison 'IS' is not supported"),
        ("SELECT * FROM assets WHERE ID 'a'", 40001, "mismatched input ''a'' expecting '='"),
        ("SELECT * FROM assets WHERE ID = TAG", 40001, "compares one column with one literal"),
        ("SELECT * FROM assets WHERE 'a' = 'b'", 40001, "compares one column with one literal"),
        ("SELECT * FROM assets WHERE (ID = 'a')", 40001, "WHERE <column> (=|!=|<>) <literal>"),
        ("SELECT * FROM assets WHERE NOT ID = 'a'", 40001, "WHERE <column> (=|!=|<>) <literal>"),
        ("SELECT * FROM assets WHERE ID = 'a' AND", 40001,
         "line 1:40: mismatched input '<EOF>' expecting a column name or a literal"),
        ("SELECT * FROM assets WHERE ID =", 40001, "line 1:32: mismatched input '<EOF>'"),
        ("SELECT * FROM assets WHERE ID = 99999999999999999999", 40001, "out of range"),
        ("SELECT * FROM assets LIMIT -1", 40001, "mismatched input '-' expecting a non-negative"),
        ("SELECT * FROM assets LIMIT 1.5", 40001, "expecting a non-negative integer"),
        ("SELECT * FROM assets LIMIT 1 LIMIT 2", 40001, "extraneous input 'LIMIT'"),
        ("SELECT * FROM assets garbage here", 40001,
         "line 1:22: extraneous input 'garbage' expecting {';', <EOF>}"),
        ("SELECT * FROM assets; SELECT * FROM assets", 40001, "line 1:23: extraneous input"),
        ("SELECT * FROM assets WHERE ID = 'x' WHERE TAG = 'y'", 40001, "extraneous input 'WHERE'"),
        ("SHOW TABLES;", 40002, "line 1:1: SHOW is not a query"),
        ("DESCRIBE assets;", 40002, "DESCRIBE is not a query"),
    ],
)  # fmt: skip
def test_rejected_pull_queries_name_the_offending_token(sql: str, code: int, message: str) -> None:
    error = reject(parse_pull_query, sql)
    assert error.error_code == code
    assert message in error.message


# /ksql statements --------------------------------------------------------------------------
def test_describe_show_and_list_statements() -> None:
    statements = parse_statements(
        "DESCRIBE assets_stream EXTENDED; describe `assets`;\nSHOW STREAMS; list tables extended;"
    )
    assert [(s.kind, s.target and s.target.name, s.extended) for s in statements] == [
        ("describe", "ASSETS_STREAM", True),
        ("describe", "assets", False),
        ("streams", None, False),
        ("tables", None, True),
    ]
    assert [s.text for s in statements] == [
        "DESCRIBE assets_stream EXTENDED;",
        "describe `assets`;",
        "SHOW STREAMS;",
        "list tables extended;",
    ]


@pytest.mark.parametrize(
    ("sql", "code", "message"),
    [
        ("", 40000, "no statement to run"),
        ("-- only a comment", 40000, "no statement to run"),
        ("SHOW STREAMS", 40001, "line 1:13: mismatched input '<EOF>' expecting ';'"),
        ("SHOW STREAMS; DESCRIBE x", 40001, "line 1:25: mismatched input '<EOF>' expecting ';'"),
        ("DESCRIBE;", 40001, "mismatched input ';' expecting a stream or table name"),
        ("DESCRIBE x y;", 40001, "line 1:12: mismatched input 'y' expecting ';'"),
        ("SHOW TOPICS;", 40001, "SHOW 'TOPICS' is not supported by the fake ksqlDB"),
        ("SELECT * FROM assets;", 40002, "should be issued to the websocket endpoint '/query'"),
        ("CREATE STREAM s (a INT) WITH (KAFKA_TOPIC='s');", 40001, "does not run CREATE"),
        ("DROP TABLE assets;", 40001, "does not run DROP"),
        ("frobnicate;", 40001, "line 1:1: mismatched input 'frobnicate' expecting a statement"),
        (";", 40001, "mismatched input ';' expecting a statement"),
    ],
)
def test_rejected_statements(sql: str, code: int, message: str) -> None:
    error = reject(parse_statements, sql)
    assert error.error_code == code
    assert message in error.message
