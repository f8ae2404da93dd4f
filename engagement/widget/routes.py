"""The embeddable widget's files (README, "Embedding the widget").

A page loads `/widget/engagement.js`: a tiny loader at a stable URL with the service's short
cache, which adds the versioned script with the page's language and the stylesheet in it,
`/widget/v/<version>/engagement.<language>.js`. Everything under `/widget/v/<version>/` (those
scripts, the stylesheet alone for scripts of earlier releases, the strings of each language
alone for a placeholder that asks for another, each in the encoding of fewest bytes) is
minified (the script's local names shortened too) and compressed once per process, in Brotli
for browsers that take it (over HTTPS) and in gzip (by Zopfli) for the others, and cached by
browsers for a year as immutable: the version is a hash of the content, so a new release is
a new URL. A script or stylesheet tag loads them from any origin without CORS."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import brotli
import rcssmin
import zopfli.gzip
from calmjs.parse import asttypes, es5, rules
from calmjs.parse.handlers.core import token_handler_unobfuscate
from calmjs.parse.handlers.obfuscation import CatchScope, NameGenerator, Obfuscator, Scope
from calmjs.parse.lexers.es5 import Lexer
from calmjs.parse.ruletypes import Resolve
from calmjs.parse.unparsers.es5 import Unparser
from flask import Blueprint, Response, abort, current_app, redirect, request, url_for

bp = Blueprint("widget", __name__, url_prefix="/widget")

YEAR = 365 * 24 * 3600
# Shortened names are made of these, the letters of minified JavaScript by frequency (terser's
# order), so that a name costs gzip the fewest bits.
NAME_CHARS = "etnraoisculdpfmhgbvywkxjqzETNRAOISCULDPFMHGBVYWKXJQZ_$"
# Properties of the script's own objects (`app`, a part or thread, a comment's `ui`, a form's
# options, t.number, an ApiError's fields and retryAfter) and those it keeps on elements (a
# placeholder's engagementLanguage, a button's hadFocus), shortened like local names: 167
# bytes gzipped. None is a property the browser defines and the script reads, an attribute
# el() sets, a field of the API, or a key the script looks up by a string (its fill functions
# by placeholder kind: not `shares`); the build refuses one written as a string.
OWN_PROPERTIES = (
    "actions", "articles", "assets", "author", "buttons", "count", "cursor", "done",
    "engagementLanguage", "extra", "failed", "fields", "fixedTitle", "formSlot", "hadFocus",
    "languages", "list", "main", "more", "number", "opener", "region", "retried", "retryAfter",
    "root", "send", "slot", "slug", "submitClass", "thread", "threads", "uid", "upOnly")
# Single-byte encodings of the Encoding Standard, by Python's name and the label browsers know.
# A script is decoded by the charset its Content-Type names, so a language whose strings all
# fit one of these goes in it: one byte a letter where UTF-8 takes two (Arabic's strings,
# gzipped, 1,668 bytes in UTF-8 and 1,441 in windows-1256).
SINGLE_BYTE = {"cp1252": "windows-1252", "cp1256": "windows-1256"}
# A plural string's forms (en.json's c_zero, c_one... c_other), in the order of the script's
# PLURALS: a language sends them as one list, a missing form left empty.
PLURAL_FORMS = ("zero", "one", "two", "few", "many", "other")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    brotli: bytes
    mimetype: str
    charset: str = "utf-8"


@dataclass(frozen=True)
class Bundle:
    version: str
    assets: dict[str, Asset]  # by path under /widget/v/<version>/
    loader: Asset


def _source(name: str) -> str:
    return resources.files("engagement.widget").joinpath("static", name).read_text("utf-8")


def _asset(text: str, mimetype: str, cache_dir: Path, charset: str = "utf-8") -> Asset:
    body = text.encode(charset)
    # Zopfli writes ordinary gzip, some 4% smaller than zlib's best, in 0.1 s of CPU for the
    # script; Brotli's best is 7% smaller again (everything a page loads 12,687 bytes in gzip,
    # 11,792 in Brotli): once for every process, kept in the instance folder.
    digest = hashlib.sha256(body).hexdigest()[:16]
    gzipped = _kept(cache_dir / f"widget-{digest}.gz", lambda: zopfli.gzip.compress(body))
    compressed = _kept(cache_dir / f"widget-{digest}.br",
                       lambda: brotli.compress(body, quality=11))
    return Asset(body, gzipped, compressed, mimetype, SINGLE_BYTE.get(charset, charset))


def _kept(cached: Path, make) -> bytes:
    """make()'s bytes, kept at `cached` (a name that hashes what they are made of) for every
    process; where that folder cannot be written, each process makes its own."""
    try:
        return cached.read_bytes()
    except OSError:
        pass
    made = make()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(made)
        os.replace(partial, cached)  # whole or not at all, whichever process writes first
    except OSError:
        pass
    return made


def _fewest_bytes(text: str) -> str:
    """UTF-8, or a single-byte encoding that holds every character of the text in fewer bytes."""
    for charset in SINGLE_BYTE:
        try:
            if len(text.encode(charset)) < len(text.encode()):
                return charset
        except UnicodeEncodeError:
            pass
    return "utf-8"


def _strings(language: str) -> dict[str, str]:
    return json.loads(_source(f"i18n/{language}.json"))


def keys() -> list[str]:
    """The strings' keys in en.json's order, a plural string's once (c for c_zero... c_other):
    a language's strings are sent as a list in this order, and the script names each by its
    place in it."""
    english = _strings("en")
    found = []
    for key in english:
        stem, _, form = key.rpartition("_")
        if form in PLURAL_FORMS and f"{stem}_one" in english and f"{stem}_other" in english:
            key = stem
        if key not in found:
            found.append(key)
    return found


def strings_in_order(language: str) -> list:
    """A language's strings as the script reads them: in keys() order, plural forms as lists."""
    strings = _strings(language)
    return [[strings.get(f"{key}_{form}") for form in PLURAL_FORMS]
            if f"{key}_other" in strings else strings[key] for key in keys()]


def _as_script(value) -> str:
    """Compact JSON, where a list's missing items are left out (`[,"a",,,,"b"]`: JavaScript)."""
    if isinstance(value, list):
        return "[" + ",".join("" if item is None else _as_script(item) for item in value) + "]"
    return _compact(value)


def _languages() -> list[str]:
    folder = resources.files("engagement.widget").joinpath("static", "i18n")
    return sorted(entry.name.removesuffix(".json") for entry in folder.iterdir()
                  if entry.name.endswith(".json"))


def _minify_script(source: str, cache_dir: Path) -> str:
    """A script of the widget (the loader or the widget itself) minified by calmjs.parse, an
    ES5 parser: the widget is written in ES5 syntax, its t("key") calls written as the
    string's place in keys(). That takes seconds of CPU, so the result is kept in the instance
    folder, by the hash of the source, the strings' places and this module (the minifier)."""
    places = {key: place for place, key in enumerate(keys())}
    built_by = Path(__file__).read_bytes()
    key = hashlib.sha256(built_by + f"{places}{source}".encode()).hexdigest()[:16]

    def minified() -> bytes:
        tree = _shorten_properties(_number_keys(es5(source), places))
        tree = _fold(_tighten(_inline_calls(_inline_constants(_evaluate(tree)))))
        return minify_print(_unbracketed(tree)).encode()
    return _kept(cache_dir / f"widget-{key}.min.js", minified).decode()


def minify_print(tree: asttypes.Node) -> str:
    """The tree printed without spaces and semicolons it does not need, its local names
    shortened (the loader's and the widget's: everything inside their function)."""
    def renaming():
        names = _NamesInOrder(reserved_keywords=Lexer.keywords_dict.keys())
        return {"token_handler": token_handler_unobfuscate,
                "deferrable_handlers": {Resolve: names.resolve},
                "prewalk_hooks": [names.prewalk_hook]}
    unparser = Unparser(rules=[rules.minify(drop_semi=True), renaming])
    return "".join(chunk.text for chunk in unparser(tree))


class _NamesInOrder(Obfuscator):
    """calmjs.parse's renaming (the same scopes, never shadowing a name a scope uses), with
    names given as terser gives them: each function's in the order they are declared, from
    the first free letter, rather than its most used first. Parameters are then e, t, n in
    most functions, which gzip finds again and again: the script is 255 bytes less gzipped."""

    def finalize(self):
        self.global_scope.close()
        names = NameGenerator(skip=self.reserved_keywords, charset=NAME_CHARS)
        for scope in self.global_scope.children:  # a page's globals keep their names
            _rename(scope, names)


def _rename(scope: Scope, names: NameGenerator) -> None:
    fresh = names(skip=scope._reserved_symbols)
    if isinstance(scope, CatchScope):
        scope.remapped_symbols[scope.catch_symbol] = next(fresh)
    else:
        for symbol in scope.referenced_symbols:  # a dict: first met, first named
            if symbol in scope.local_declared_symbols:
                scope.remapped_symbols[symbol] = next(fresh)
    for child in scope.children:
        _rename(child, names)


# The nodes that hold a list of statements, and the attribute that holds it.
STATEMENT_LISTS = {asttypes.Program: "_children_list", asttypes.Block: "_children_list",
                   asttypes.FuncBase: "elements", asttypes.Case: "elements",
                   asttypes.Default: "elements"}


# Expressions that need brackets as an operand of && or ||, or as a condition; a comma
# expression needs them wherever a single expression stands (an argument, a branch of ?:).
LOOSE = (asttypes.Assign, asttypes.Conditional, asttypes.Comma)
# Statements that may end in an `if` without `else`, which would take an else meant for an
# outer `if` once their braces go.
OPEN_ENDED = (asttypes.If, asttypes.For, asttypes.ForIn, asttypes.While, asttypes.With,
              asttypes.Label)


def _fold(node: asttypes.Node) -> asttypes.Node:
    """Statements written as the expressions they are, as terser's `sequences`, `conditionals`
    and `if_return` write them (the script stays a var and a statement a line): expression
    statements side by side become one (`a(); b();` is `a(), b();`), a block of one statement
    loses its braces, `if (a) b();` becomes `a && b();` (`!a` gives `a || b()`), an if/else of
    expressions or of returns becomes `?:`, and `a(); return b;` is `return a(), b;`. Nothing
    runs in another order, and brackets go where precedence needs them. The script is 32 bytes
    less gzipped (360 raw): gzip had found most of what these save."""
    for child in node.children():
        if isinstance(child, asttypes.Node):
            _fold(child)
    for kind, name in STATEMENT_LISTS.items():
        if isinstance(node, kind):
            setattr(node, name, _fold_statements(getattr(node, name)))
    if isinstance(node, asttypes.FuncBase):
        node.elements = _fold_statements(_early_return(node.elements))
    if isinstance(node, (asttypes.For, asttypes.ForIn, asttypes.While)):
        node.statement = _unbraced(node.statement, False)
    if isinstance(node, asttypes.If):
        node.consequent = _as_expression(_unbraced(node.consequent, node.alternative is not None))
        if node.alternative is not None:
            node.alternative = _as_expression(_unbraced(node.alternative, False))
    return node


def _unbraced(statement: asttypes.Node, before_else: bool) -> asttypes.Node:
    if isinstance(statement, asttypes.Block) and len(statement.children()) == 1:
        only = statement.children()[0]
        if not isinstance(only, asttypes.FuncDecl) and not (
                before_else and isinstance(only, OPEN_ENDED)):
            return only
    return statement


def _fold_statements(statements: list) -> list:
    folded = []
    for statement in statements:
        statement = _as_expression(statement)
        last = folded[-1] if folded else None
        if _is_expression(last) and _is_expression(statement):
            last.expr = asttypes.Comma(last.expr, statement.expr)
        elif _is_expression(last) and isinstance(statement, asttypes.Return) and statement.expr:
            folded[-1] = asttypes.Return(asttypes.Comma(last.expr, statement.expr))
        elif (isinstance(last, asttypes.If) and last.alternative is None
              and _returns(last.consequent) and _returns(statement)):
            folded[-1] = asttypes.Return(_choice(last.predicate, last.consequent.expr,
                                                 statement.expr))
        else:
            folded.append(statement)
    return folded


def _early_return(body: list) -> list:
    """A function that goes on after `if (a) return;` ends `if (!a) {...}` instead, which
    folding makes `a || (b(), c());` when only expressions follow (it returns nothing either
    way); not where a function is declared after it, which the block would make its own."""
    for index in range(len(body) - 2, -1, -1):
        check, rest = body[index], body[index + 1:]
        if (isinstance(check, asttypes.If) and check.alternative is None
                and isinstance(check.consequent, asttypes.Return)
                and check.consequent.expr is None):
            if any(isinstance(statement, asttypes.FuncDecl) for statement in rest):
                return body
            folded = _fold(asttypes.If(_negated(check.predicate), asttypes.Block(rest)))
            return _early_return(body[:index] + [folded])
    return body


def _negated(expression: asttypes.Node) -> asttypes.Node:
    if isinstance(expression, asttypes.UnaryExpr) and expression.op == "!":
        return expression.value
    return asttypes.UnaryExpr("!", _bracketed(expression, (asttypes.BinOp, *LOOSE)))


def _is_expression(statement) -> bool:
    # A string alone is a directive ("use strict"), never joined to another statement.
    return isinstance(statement, asttypes.ExprStatement) and not isinstance(
        statement.expr, asttypes.String)


def _returns(statement) -> bool:
    return isinstance(statement, asttypes.Return) and statement.expr is not None


def _as_expression(statement: asttypes.Node) -> asttypes.Node:
    if not isinstance(statement, asttypes.If) or _starts_a_statement_badly(statement.predicate):
        return statement
    if statement.alternative is None and _is_expression(statement.consequent):
        predicate, op = statement.predicate, "&&"
        if isinstance(predicate, asttypes.UnaryExpr) and predicate.op == "!":
            predicate, op = predicate.value, "||"
        return asttypes.ExprStatement(asttypes.BinOp(
            op, _operand(predicate, op), _operand(statement.consequent.expr, op)))
    if _is_expression(statement.consequent) and _is_expression(statement.alternative):
        return asttypes.ExprStatement(_choice(
            statement.predicate, statement.consequent.expr, statement.alternative.expr))
    if _returns(statement.consequent) and _returns(statement.alternative):
        return asttypes.Return(_choice(
            statement.predicate, statement.consequent.expr, statement.alternative.expr))
    return statement


def _choice(predicate, yes, no) -> asttypes.Conditional:
    return asttypes.Conditional(
        _bracketed(predicate, LOOSE), _bracketed(yes, asttypes.Comma),
        _bracketed(no, asttypes.Comma))


def _operand(expression: asttypes.Node, op: str) -> asttypes.Node:
    if op == "&&" and isinstance(expression, asttypes.BinOp) and expression.op == "||":
        return asttypes.GroupingOp(expression)
    return _bracketed(expression, LOOSE)


def _bracketed(expression: asttypes.Node, loose) -> asttypes.Node:
    return asttypes.GroupingOp(expression) if isinstance(expression, loose) else expression


def _unbracketed(node: asttypes.Node) -> asttypes.Node:
    """Brackets the source wrote for its reader, or folding left, where precedence does not
    need them: around an operand of && or || that binds as tightly or more (`(a && b) || c`,
    `(a || b) || c`), and around a condition that its statement brackets (`while ((a = b))`)."""
    _replace_children(node, _unbracketed)
    if isinstance(node, asttypes.BinOp) and node.op in ("&&", "||"):
        node.left, node.right = (_unwrapped(side, node.op) for side in (node.left, node.right))
    if isinstance(node, (asttypes.If, asttypes.While, asttypes.DoWhile)) and isinstance(
            node.predicate, asttypes.GroupingOp):
        node.predicate = node.predicate.expr
    return node


def _unwrapped(side: asttypes.Node, op: str) -> asttypes.Node:
    inner = side.expr if isinstance(side, asttypes.GroupingOp) else None
    if isinstance(inner, asttypes.BinOp) and not (op == "&&" and inner.op == "||"):
        return inner
    if isinstance(inner, (asttypes.Identifier, asttypes.DotAccessor, asttypes.BracketAccessor,
                          asttypes.FunctionCall)):
        return inner
    return side


def _starts_a_statement_badly(expression: asttypes.Node) -> bool:
    """Whether the expression begins with `function` or `{`, which would make a statement
    that begins with it a declaration or a block."""
    while True:
        if isinstance(expression, (asttypes.FuncExpr, asttypes.Object)):
            return True
        if isinstance(expression, (asttypes.BinOp, asttypes.Assign, asttypes.Comma)):
            expression = expression.left
        elif isinstance(expression, (asttypes.DotAccessor, asttypes.BracketAccessor)):
            expression = expression.node
        elif isinstance(expression, asttypes.FunctionCall):
            expression = expression.identifier
        elif isinstance(expression, asttypes.Conditional):
            expression = expression.predicate
        elif isinstance(expression, asttypes.PostfixExpr):
            expression = expression.value
        else:
            return False


def _tighten(node: asttypes.Node) -> asttypes.Node:
    """Two things other minifiers do and calmjs.parse's does not, so that the source keeps a
    var a line and says true: `var a = 1; var b = 2;` side by side become `var a = 1, b = 2;`
    (only statements next to each other in one body, so nothing runs in another order), and
    true and false are written !0 and !1. The script is 29 bytes less gzipped."""
    for kind, name in STATEMENT_LISTS.items():
        if isinstance(node, kind):
            joined = []
            for statement in getattr(node, name):
                if isinstance(statement, asttypes.VarStatement) and joined and isinstance(
                        joined[-1], asttypes.VarStatement):
                    joined[-1]._children_list = joined[-1].children() + statement.children()
                else:
                    joined.append(statement)
            setattr(node, name, joined)
    for child in node.children():
        if isinstance(child, asttypes.Boolean) and not (
                isinstance(node, (asttypes.DotAccessor, asttypes.BracketAccessor))
                and child is node.node):  # !0.x would be !(0.x)
            child.value = {"true": "!0", "false": "!1"}.get(child.value, child.value)
        elif isinstance(child, asttypes.Node):
            _tighten(child)
    return node


# Operands that "" + x and !!x take without brackets.
TIGHT = (asttypes.Identifier, asttypes.DotAccessor, asttypes.BracketAccessor,
         asttypes.FunctionCall, asttypes.GroupingOp, asttypes.Number, asttypes.String,
         asttypes.UnaryExpr)


def _evaluate(node: asttypes.Node) -> asttypes.Node:
    """What terser's `evaluate` and `unsafe` write shorter, so that the source can say it
    plainly: a product of numbers worked out (10 * 60 * 1000 is 6e5), numbers in their
    shortest form (1e3, .5), string literals side by side joined, and String(x) as "" + x
    and Boolean(x) as !!x where they are an argument or a property's value (where no
    operator around them could bind the new one's operands; neither name is the script's)."""
    _replace_children(node, _evaluate)
    if isinstance(node, asttypes.Arguments):
        node.items = [_converted(item) for item in node.items]
    if isinstance(node, asttypes.Assign) and node.op == ":":
        node.right = _converted(node.right)
    if isinstance(node, asttypes.BinOp) and node.op == "*" and all(
            _integer(side) is not None for side in (node.left, node.right)):
        return asttypes.Number(_shortest(str(_integer(node.left) * _integer(node.right))))
    if isinstance(node, asttypes.BinOp) and node.op == "+" and all(
            isinstance(side, asttypes.String) for side in (node.left, node.right)) and (
            node.left.value[0] == node.right.value[0]):
        return asttypes.String(node.left.value[:-1] + node.right.value[1:])
    if isinstance(node, asttypes.Number):
        node.value = _shortest(node.value)
    return node


def _converted(node: asttypes.Node) -> asttypes.Node:
    if (isinstance(node, asttypes.FunctionCall) and isinstance(node.identifier, asttypes.Identifier)
            and len(node.args.items) == 1):
        value = node.args.items[0]
        if node.identifier.value == "String":
            return asttypes.BinOp("+", asttypes.String('""'), _tight(value, ("*", "/", "%")))
        if node.identifier.value == "Boolean":
            return asttypes.UnaryExpr("!", asttypes.UnaryExpr("!", _tight(value, ())))
    return node


def _tight(value: asttypes.Node, binding_ops) -> asttypes.Node:
    if isinstance(value, TIGHT) or (isinstance(value, asttypes.BinOp) and value.op in binding_ops):
        return value
    return asttypes.GroupingOp(value)


def _integer(node: asttypes.Node) -> int | None:
    if isinstance(node, asttypes.Number) and re.fullmatch(r"\d+(e\d+)?", node.value):
        return int(float(node.value)) if "e" in node.value else int(node.value)
    return None


def _shortest(number: str) -> str:
    if re.fullmatch(r"[1-9]\d*", number):
        digits = number.rstrip("0")
        return f"{digits}e{len(number) - len(digits)}" if len(number) - len(digits) > 2 else number
    return re.sub(r"^0\.(?=\d)", ".", number)


def _inline_constants(tree: asttypes.Node) -> asttypes.Node:
    """A var that holds a number or a short string, declared once in the script (no other
    name alike anywhere) and never assigned again, written where it is read when that is
    shorter: read once, or a number of up to three characters (PAGE_SIZE). The source keeps
    its named constants; the served script says `20`, as terser's reduce_vars would."""
    declared, assigned, read = Counter(), set(), Counter()
    for node in _walk(tree):
        if isinstance(node, asttypes.VarDecl):
            declared[node.identifier.value] += 1
        elif isinstance(node, (asttypes.FuncDecl, asttypes.FuncExpr)):
            declared.update(name.value for name in [node.identifier, *node.parameters] if name)
        elif isinstance(node, asttypes.Catch):
            declared[node.identifier.value] += 1
        elif isinstance(node, asttypes.Assign) and _is_name(node.left):
            assigned.add(node.left.value)
        elif isinstance(node, (asttypes.UnaryExpr, asttypes.PostfixExpr)) and node.op in (
                "++", "--") and _is_name(node.value):
            assigned.add(node.value.value)
        elif _is_name(node):
            read[node.value] += 1
    constants = {}
    for node in _walk(tree):
        if isinstance(node, asttypes.VarDecl) and isinstance(
                node.initializer, (asttypes.Number, asttypes.String)):
            name, value = node.identifier.value, node.initializer.value
            uses = read[name] - declared[name]
            if declared[name] == 1 and name not in assigned and (
                    uses == 1 and len(value) <= 40
                    or isinstance(node.initializer, asttypes.Number) and len(value) <= 3):
                constants[name] = node.initializer

    def inline(node: asttypes.Node) -> asttypes.Node:
        if _is_name(node) and node.value in constants:
            return type(constants[node.value])(constants[node.value].value)
        if (isinstance(node, asttypes.DotAccessor) and _is_name(node.node)
                and isinstance(constants.get(node.node.value), asttypes.Number)):
            node.node = asttypes.GroupingOp(node.node)  # 20.x would be a number, (20).x is not
        if isinstance(node, asttypes.VarStatement):
            node._children_list = [declaration for declaration in node.children()
                                   if declaration.identifier.value not in constants]
        _replace_children(node, inline)
        for kind, name in STATEMENT_LISTS.items():
            if isinstance(node, kind):
                setattr(node, name, [statement for statement in getattr(node, name) if not (
                    isinstance(statement, asttypes.VarStatement) and not statement.children())])
        return node
    return inline(tree)


def _inline_calls(tree: asttypes.Node) -> asttypes.Node:
    """A function declared once and called once is written where it is called, as terser's
    reduce_funcs does: `function a(x) {...}` and `a(y)` become `(function (x) {...})(y)`.
    Only where nothing changes: its name is declared nowhere else and read nowhere else, the
    call is not inside it, and no function or catch between its declaration and the call
    declares a name it reads from outside (which would take the name's place inside it)."""
    declared, read = Counter(), Counter()
    calls = {}  # name -> (the call, the functions and catches around it, outermost first)
    for node, around in _walk_within(tree, ()):
        for name in _declared_by(node):
            declared[name] += 1
        if _is_name(node):
            read[node.value] += 1
        if isinstance(node, asttypes.FunctionCall) and _is_name(node.identifier):
            calls[node.identifier.value] = (node, around)
    inlined = set()
    for node, around in _walk_within(tree, ()):
        if not isinstance(node, asttypes.FuncDecl):
            continue
        name = node.identifier.value
        if declared[name] != 1 or read[name] != 2 or name not in calls:
            continue  # read twice: where it is declared, and in the call
        call, call_around = calls[name]
        scope = around[-1] if around else None
        if node in call_around or (scope is not None and scope not in call_around):
            continue
        between = call_around[call_around.index(scope) + 1:] if scope else call_around
        if any(_free_names(node) & _declared_in(outer) for outer in between):
            continue
        call.identifier = asttypes.GroupingOp(
            asttypes.FuncExpr(None, node.parameters, node.elements))
        inlined.add(id(node))
    for node in _walk(tree):
        for kind, attribute in STATEMENT_LISTS.items():
            if isinstance(node, kind):
                setattr(node, attribute, [statement for statement in getattr(node, attribute)
                                          if id(statement) not in inlined])
    return tree


def _is_name(node: asttypes.Node) -> bool:
    """A variable's name, not a property's (calmjs.parse's PropIdentifier is an Identifier)."""
    return isinstance(node, asttypes.Identifier) and not isinstance(node, asttypes.PropIdentifier)


def _walk_within(node: asttypes.Node, around: tuple):
    """Each node with the functions and catch clauses it is inside, outermost first."""
    yield node, around
    if isinstance(node, (asttypes.FuncBase, asttypes.Catch)):
        around = (*around, node)
    for child in node.children():
        if isinstance(child, asttypes.Node):
            yield from _walk_within(child, around)


def _declared_by(node: asttypes.Node) -> list[str]:
    if isinstance(node, asttypes.VarDecl):
        return [node.identifier.value]
    if isinstance(node, asttypes.FuncBase):
        return [name.value for name in [node.identifier, *node.parameters] if name]
    if isinstance(node, asttypes.Catch):
        return [node.identifier.value]
    return []


def _declared_in(scope: asttypes.Node) -> set[str]:
    """The names a function (its name when an expression, its parameters, vars and inner
    functions' names) or a catch clause (its parameter) declares for the code inside it."""
    if isinstance(scope, asttypes.Catch):
        return {scope.identifier.value}
    names = {name.value for name in scope.parameters}
    if isinstance(scope, asttypes.FuncExpr) and scope.identifier:
        names.add(scope.identifier.value)

    def visit(node: asttypes.Node) -> None:
        for child in node.children():
            if isinstance(child, asttypes.VarDecl):
                names.add(child.identifier.value)
            if isinstance(child, asttypes.FuncDecl):
                names.add(child.identifier.value)
            elif isinstance(child, asttypes.Node) and not isinstance(child, asttypes.FuncExpr):
                visit(child)
    for element in scope.elements:
        if isinstance(element, asttypes.FuncDecl):
            names.add(element.identifier.value)
        else:
            visit(element)
    return names


def _free_names(scope: asttypes.Node) -> set[str]:
    """The names read inside a function or catch clause that it does not declare."""
    found = set()

    def visit(node: asttypes.Node) -> None:
        for child in node.children():
            if isinstance(child, (asttypes.FuncBase, asttypes.Catch)):
                found.update(_free_names(child))
            elif _is_name(child):
                found.add(child.value)
            elif isinstance(child, asttypes.Node):
                visit(child)
    visit(scope)
    return found - _declared_in(scope)


def _replace_children(node: asttypes.Node, replace) -> None:
    for name, value in vars(node).items():
        if isinstance(value, asttypes.Node):
            setattr(node, name, replace(value))
        elif isinstance(value, list):
            setattr(node, name, [replace(item) if isinstance(item, asttypes.Node) else item
                                 for item in value])


def _number_keys(node: asttypes.Node, places: dict[str, int]) -> asttypes.Node:
    """Each t("key") and t.n("key", n) (t or any object's t; any method n) with the key's
    place in the strings instead: t(57). A key en.json does not have, or one not written out,
    is an error, since the script would show nothing."""
    for child in node.children():
        if isinstance(child, asttypes.FunctionCall) and child.args.items:
            plural = _is_translator(child.identifier, plural=True)
            if plural or _is_translator(child.identifier):
                child.args.items[0] = _place(child.args.items[0], places, plural)
        if isinstance(child, asttypes.Node):
            _number_keys(child, places)
    return node


def _is_translator(callee: asttypes.Node, plural: bool = False) -> bool:
    if plural:  # t.n, translator(lang).n: every method n
        return isinstance(callee, asttypes.DotAccessor) and callee.identifier.value == "n"
    return (isinstance(callee, asttypes.Identifier) and callee.value == "t") or (
        isinstance(callee, asttypes.DotAccessor) and callee.identifier.value == "t")


def _place(argument: asttypes.Node, places: dict[str, int], plural: bool) -> asttypes.Node:
    if isinstance(argument, asttypes.Conditional):  # t(a ? "x" : "y")
        argument.consequent = _place(argument.consequent, places, plural)
        argument.alternative = _place(argument.alternative, places, plural)
        return argument
    if not isinstance(argument, asttypes.String):
        raise ValueError(f"a string's key must be written out: t({argument})")
    key = argument.value[1:-1]
    if key not in places or plural != (f"{key}_other" in _strings("en")):
        raise ValueError(f"en.json has no {'plural ' if plural else ''}string {key!r}")
    return asttypes.Number(str(places[key]))


def _shorten_properties(tree: asttypes.Node) -> asttypes.Node:
    """OWN_PROPERTIES renamed wherever they are written `x.name` or `{name: ...}`, the most
    used first, to letters no other property or string of the script is."""
    used, written = Counter(), set()
    for node in _walk(tree):
        if isinstance(node, asttypes.PropIdentifier):
            used[node.value] += 1
        elif isinstance(node, asttypes.String):
            written.add(node.value[1:-1])
    if clash := written.intersection(OWN_PROPERTIES):
        raise ValueError(f"read by a string, so they cannot be renamed: {sorted(clash)}")
    free = (name for name in NameGenerator(charset=NAME_CHARS)
            if name not in used and name not in written)
    short = {name: next(free) for name in sorted(OWN_PROPERTIES, key=lambda name: -used[name])}
    for node in _walk(tree):
        if isinstance(node, asttypes.PropIdentifier) and node.value in short:
            node.value = short[node.value]
    return tree


def _walk(node: asttypes.Node):
    yield node
    for child in node.children():
        if isinstance(child, asttypes.Node):
            yield from _walk(child)


def _compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def bundle() -> Bundle:
    """The versioned files, built from the package's sources on first use."""
    return _build(Path(current_app.instance_path))


@functools.cache
def _build(cache_dir: Path) -> Bundle:
    stylesheet = rcssmin.cssmin(_source("engagement.css"))
    # The script carries the stylesheet (one file, one gzip stream: the class names are said
    # once for both); engagement.css stays for scripts of earlier releases, which link it.
    script = _minify_script(
        _source("engagement.js").replace('"__STYLESHEET__"', _compact(stylesheet)), cache_dir)
    assets = {
        "engagement.js": _asset(script, "application/javascript", cache_dir),
        "engagement.css": _asset(stylesheet, "text/css", cache_dir),
    }
    for language in _languages():
        strings = ("(window.EngagementTranslations=window.EngagementTranslations||{})"
                   f"[{_compact(language)}]={_as_script(strings_in_order(language))};")
        assets[f"i18n/{language}.js"] = _asset(
            strings, "application/javascript", cache_dir, _fewest_bytes(strings))
        # What the loader adds: the script with the page's language, one file and one gzip
        # stream (some 150 bytes less than the two apart). Other languages come from i18n/.
        assets[f"engagement.{language}.js"] = _asset(
            strings + script, "application/javascript", cache_dir, _fewest_bytes(strings + script))
    digest = hashlib.sha256()
    for path in sorted(assets):
        digest.update(path.encode() + b"\0" + assets[path].body)
    version = digest.hexdigest()[:16]
    loader = _minify_script(_source("loader.js"), cache_dir).replace(
        "__VERSION__", version).replace("__LANGUAGES__", _compact(_languages()))
    return Bundle(version, assets, _asset(loader, "application/javascript", cache_dir))


@bp.get("/engagement.js")
def script():
    """The widget's stable loader, for `<script src=".../widget/engagement.js" async>`."""
    return _for_any_origin(_sent(bundle().loader))


@bp.get("/engagement.css")
def stylesheet():
    """The stylesheet where earlier releases linked it; pages now link the versioned one."""
    return _for_any_origin(_sent(bundle().assets["engagement.css"]))


@bp.get("/v/<version>/<path:name>")
def versioned(version: str, name: str):
    """A versioned file: compressed, and cached for a year as immutable."""
    current = bundle()
    if name not in current.assets:
        abort(404)
    if version != current.version:
        # A loader cached before a release asks for the old version: send it to the new one.
        response = redirect(url_for("widget.versioned", version=current.version, name=name))
        response.cache_control.no_cache = True
        return _for_any_origin(response)
    response = _sent(current.assets[name])
    response.cache_control.public = True
    response.cache_control.max_age = YEAR
    response.cache_control.immutable = True
    return _for_any_origin(response)


def _sent(asset: Asset) -> Response:
    """The asset in the encoding the client prefers of Brotli and gzip (Brotli when it takes
    both alike), or as it is for a client that takes neither (`gzip;q=0` refuses gzip)."""
    encoding = request.accept_encodings.best_match(["br", "gzip"])
    body = {"br": asset.brotli, "gzip": asset.gzipped}.get(encoding, asset.body)
    response = Response(body, content_type=f"{asset.mimetype}; charset={asset.charset}")
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    return response


def _for_any_origin(response: Response) -> Response:
    # Pages of other origins load these even when they isolate themselves (COEP).
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
