"""A tolerant reader of declarative Jenkinsfiles: the block tree and the stages, in order.

No maintained Python parser of Jenkins' declarative syntax exists, so this one matches braces
over the tokens of Pygments' Groovy lexer, which already knows Groovy's strings ('...', "...",
triple-quoted, slashy, GString `${...}`) and comments: a `}` inside any of them is never a
block's end. It reads what the checks need (named blocks, their string arguments, the strings
and words they contain) and nothing of Groovy's semantics.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pygments.lexers import GroovyLexer
from pygments.token import Comment, Keyword, Name, Operator, Punctuation, String, Text, _TokenType


class JenkinsfileError(ValueError):
    """The Jenkinsfile's brackets do not balance; the message names the line."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "op" or "other"
    value: str  # for strings: the content, without quotes
    line: int


@dataclass(frozen=True)
class Block:
    """`name(args) { ... }`: a section (pipeline, stages, post), a stage or a step's closure."""

    name: str  # "" for a closure with no name before it
    args: tuple[str, ...]  # string arguments, e.g. the stage's name
    line: int
    tokens: tuple[Token, ...]  # everything inside the braces, nested blocks included
    children: tuple[Block, ...]

    def find(self, name: str) -> Iterator[Block]:
        """Descendant blocks called `name`, in document order (not inside a match)."""
        for child in self.children:
            if child.name == name:
                yield child
            else:
                yield from child.find(name)

    def child(self, name: str) -> Block | None:
        return next((c for c in self.children if c.name == name), None)

    def strings(self) -> tuple[str, ...]:
        return tuple(t.value for t in self.tokens if t.kind == "string")

    def words(self) -> tuple[str, ...]:
        return tuple(t.value for t in self.tokens if t.kind == "word")


_QUOTES = ("'''", '"""', "$/", "'", '"', "/")


def _unquote(text: str) -> str:
    for q in _QUOTES:
        end = "/$" if q == "$/" else q
        if text.startswith(q) and text.endswith(end) and len(text) >= len(q) + len(end):
            return text[len(q):len(text) - len(end)]
    return text


def _kind(ttype: _TokenType) -> str:
    if ttype in String:
        return "string"
    if ttype in Name or ttype in Keyword:
        return "word"
    if ttype in Operator or ttype in Punctuation:
        return "op"
    return "other"


def tokenize(source: str) -> list[Token]:
    """Significant tokens (no whitespace, no comments); string pieces are joined into one."""
    tokens: list[Token] = []
    line = 1
    prev_string = False
    for ttype, value in GroovyLexer().get_tokens(source):
        here = line
        line += value.count("\n")
        if ttype in Comment or ttype in Text:
            prev_string = False
            continue
        kind = _kind(ttype)
        # The lexer may split one literal (escapes, interpolation) into adjacent string tokens.
        if kind == "string" and prev_string:
            last = tokens.pop()
            tokens.append(Token("string", last.value + value, last.line))
        else:
            # Single-character operators are split so that "){" still yields ")" and "{".
            parts = list(value) if kind == "op" and set(value) <= set("{}()[]") else [value]
            tokens.extend(Token(kind, p, here) for p in parts)
        prev_string = kind == "string"
    return [Token("string", _unquote(t.value), t.line) if t.kind == "string" else t
            for t in tokens]


_PAIRS = {"}": "{", ")": "(", "]": "["}
_BRACKETS = frozenset("{}()[]")


@dataclass
class _Open:
    bracket: str
    index: int  # position of the opening token
    name: str = ""
    args: tuple[str, ...] = ()
    line: int = 0
    children: list[Block] | None = None


def _header(tokens: list[Token], brace: int, opened_at: dict[int, int]) -> tuple[str, tuple]:
    """Name and string arguments before the `{` at `brace`: `stage('x') {`, `steps {`."""
    prev = brace - 1
    if prev >= 0 and tokens[prev].value == ")" and prev in opened_at:
        start = opened_at[prev]
        args = tuple(t.value for t in tokens[start + 1:prev] if t.kind == "string")
        name_at = start - 1
        name = tokens[name_at].value if name_at >= 0 and tokens[name_at].kind == "word" else ""
        return name, args
    if prev >= 0 and tokens[prev].kind == "word":
        return tokens[prev].value, ()
    return "", ()


def parse(source: str) -> Block:
    """The file as a root block (name "") whose children are its top-level blocks."""
    tokens = tokenize(source)
    stack: list[_Open] = [_Open("", -1, children=[])]
    opened_at: dict[int, int] = {}  # closing index -> opening index, for headers
    for i, tok in enumerate(tokens):
        if tok.kind != "op" or tok.value not in _BRACKETS:
            continue
        if tok.value in ("{", "(", "["):
            name, args = _header(tokens, i, opened_at) if tok.value == "{" else ("", ())
            stack.append(_Open(tok.value, i, name, args, tok.line, []))
            continue
        top = stack[-1]
        if top.bracket != _PAIRS[tok.value]:
            want = {"{": "}", "(": ")", "[": "]"}.get(top.bracket, "end of file")
            raise JenkinsfileError(f"line {tok.line}: unexpected {tok.value!r} "
                                   f"(expected {want!r}"
                                   + (f" for line {top.line})" if top.line else ")"))
        stack.pop()
        opened_at[i] = top.index
        if top.bracket == "{":
            block = Block(top.name, top.args, top.line, tuple(tokens[top.index + 1:i]),
                          tuple(top.children or ()))
            parent = next(o for o in reversed(stack) if o.children is not None)
            assert parent.children is not None
            parent.children.append(block)
        else:  # blocks opened inside parentheses belong to the enclosing block
            parent = next(o for o in reversed(stack) if o.children is not None)
            assert parent.children is not None
            parent.children.extend(top.children or ())
    if len(stack) > 1:
        top = stack[-1]
        raise JenkinsfileError(f"line {top.line}: {top.bracket!r} is never closed")
    return Block("", (), 1, tuple(tokens), tuple(stack[0].children or ()))


@dataclass(frozen=True)
class Stage:
    name: str
    line: int
    block: Block
    step: int  # when it runs: stages of one `parallel { ... }` group share their group's step


def stages(root: Block) -> tuple[Stage, ...]:
    """The pipeline's stages in document order, nested and parallel ones flattened in."""
    pipeline = next(root.find("pipeline"), None)
    if pipeline is None:
        raise JenkinsfileError("no `pipeline { ... }` block: not a declarative pipeline")
    found: list[Stage] = []
    clock = [0]

    def walk(block: Block, group: int | None) -> None:
        for child in block.children:
            if child.name == "stage":
                if group is None:
                    clock[0] += 1
                name = child.args[0] if child.args else "?"
                found.append(Stage(name, child.line, child, clock[0] if group is None else group))
                walk(child, group)
            elif child.name in ("parallel", "matrix") and group is None:
                clock[0] += 1
                walk(child, clock[0])
            elif child.name in ("stages", "parallel", "matrix"):
                walk(child, group)

    walk(pipeline, None)
    return tuple(found)
