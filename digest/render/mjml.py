"""MJML → HTML with mjml-python, and errors that name the template file and line.

mjml-python (a Rust port) reports some errors with a byte offset into the MJML source
("... at position 95:100") and others with only a message ("unexpected end of stream"). For the
first we turn the offset into a line; for the second we find the first unbalanced MJML tag. The
line of the rendered MJML is then traced back to the template line that produced it.

mjml-python does not validate: an unknown tag goes raw into the HTML, an unknown attribute or a closing tag
that does not match is ignored. :func:`check_markup` does what the reference compiler's strict validation does,
in Python, against MJML's own vocabulary (``mjml_vocabulary``), so a mistake stops the build and the preview
with the template file and line. :func:`validate_strict` runs the reference compiler itself (npm ``mjml``,
``DIGEST_MJML_BIN``) in CI.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from collections.abc import Collection
from dataclasses import dataclass

import jinja2
from mjml import mjml2html

from digest.errors import ConfigError, TemplateError
from digest.render.mjml_vocabulary import ATTRIBUTES, CHILDREN, COMPONENTLESS, GLOBAL_ATTRIBUTES

_POSITION = re.compile(r"\s*at position (\d+):(\d+)")
_TAG = re.compile(r"<(/?)(mjml|mj-[\w-]+)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
# The same tags, matched in runs rather than a character at a time (check_markup reads every tag of an edition).
_FAST_TAG = re.compile(r"<(/?)(mjml|mj-[\w-]+)\b((?:[^>\"'/]+|/(?!>)|\"[^\"]*\"|'[^']*')*)(/?)>")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
_ATTRIBUTE = re.compile(r"([^\s=/>\"']+)(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?")
# Elements whose content MJML keeps as raw HTML: tags inside them are not MJML structure.
_RAW = {
    "mj-text",
    "mj-button",
    "mj-raw",
    "mj-style",
    "mj-title",
    "mj-preview",
    "mj-table",
    "mj-navbar-link",
    "mj-social-element",
    "mj-accordion-text",
    "mj-accordion-title",
}


def compile_mjml(source: str, name: str, env: jinja2.Environment | None = None) -> str:
    """HTML for MJML ``source`` rendered from template ``name``; :class:`TemplateError` names file:line."""
    try:
        compiled = mjml2html(source, disable_comments=True, fonts={})
    except ValueError as exc:
        message, line = _error_line(str(exc), source)
        where = locate(source, line, name, env) if line else name
        at = f" (rendered MJML line {line})" if line else ""
        raise TemplateError(f"{where}: MJML does not compile: {message}{at}; fix the template's markup") from None
    problem = check_markup(source)
    if problem:
        line, message = problem
        where = locate(source, line, name, env)
        raise TemplateError(f"{where}: {message} (rendered MJML line {line}); fix the template's markup")
    return compiled


def _suggest(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def check_markup(source: str) -> tuple[int, str] | None:
    """(line, message) of the first markup mistake mjml-python lets through, or None.

    The checks of ``mjml --config.validationLevel strict``: unknown tags, unknown attributes, a tag where its
    parent does not take it; and a closing tag that does not match the open one.
    """
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    stack: list[tuple[str, int]] = []
    line, counted = 1, 0  # lines counted as we go: one pass over the text, not one per tag
    for tag in _FAST_TAG.finditer(text):
        closing, name, attributes, selfclosing = tag.groups()
        if stack and stack[-1][0] in _RAW and not (closing and name == stack[-1][0]):
            continue  # markup inside mj-text, mj-button, mj-raw ... is the email's HTML, not MJML
        line += text.count("\n", counted, tag.start())
        counted = tag.start()
        if closing:
            if not stack:
                return line, f"</{name}> closes nothing"
            if stack[-1][0] != name:
                opened, at = stack[-1]
                if any(n == name for n, _ in stack):
                    return at, f"<{opened}> is never closed (</{name}> comes first, on rendered line {line})"
                return (
                    line,
                    f"</{name}> does not close <{opened}>{_suggest(name, [opened])}",
                )
            stack.pop()
            continue
        problem = _check_tag(name, attributes, stack[-1][0] if stack else None)
        if problem:
            return line, problem
        if not selfclosing:
            stack.append((name, line))
    return (stack[-1][1], f"<{stack[-1][0]}> is never closed") if stack else None


# the vocabulary as sets, split once
_ATTRIBUTES = {tag: frozenset(names.split()) | GLOBAL_ATTRIBUTES for tag, names in ATTRIBUTES.items()}
_CHILDREN = {tag: frozenset(names.split()) for tag, names in CHILDREN.items()}


def _check_tag(name: str, attributes: str, parent: str | None) -> str | None:
    if name in COMPONENTLESS:
        return None
    if name not in ATTRIBUTES:
        return f"unknown MJML tag <{name}>{_suggest(name, set(ATTRIBUTES))}"
    if parent in _CHILDREN and name not in _CHILDREN[parent]:
        allowed = ", ".join(sorted(_CHILDREN[parent])) or "no MJML tags"
        return f"<{name}> cannot be inside <{parent}> (it takes {allowed})"
    allowed_attributes = _ATTRIBUTES[name]
    if not attributes.strip():
        return None
    for found in _ATTRIBUTE.finditer(attributes):
        attribute = found.group(1)
        if attribute not in allowed_attributes:
            return f"unknown attribute {attribute}=… on <{name}>{_suggest(attribute, allowed_attributes)}"
    return None


def _error_line(message: str, source: str) -> tuple[str, int | None]:
    found = _POSITION.search(message)
    if found:
        offset = int(found.group(1))
        line = source.encode("utf-8")[:offset].count(b"\n") + 1
        return message[: found.start()] + message[found.end() :], line
    return message, unbalanced_line(source)


def unbalanced_line(source: str) -> int | None:
    """The line of the first MJML tag left open or closed out of turn, if any."""
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    stack: list[tuple[str, int]] = []
    for tag in _TAG.finditer(text):
        closing, name, _, selfclosing = tag.groups()
        line = text.count("\n", 0, tag.start()) + 1
        if stack and stack[-1][0] in _RAW and not (closing and name == stack[-1][0]):
            continue
        if selfclosing:
            continue
        if not closing:
            stack.append((name, line))
        elif stack and stack[-1][0] == name:
            stack.pop()
        elif stack:
            return stack[-1][1]
        else:
            return line
    return stack[-1][1] if stack else None


@dataclass
class _Candidate:
    filename: str
    line: int
    score: int


def locate(source: str, line: int, name: str, env: jinja2.Environment | None) -> str:
    """``file:line`` of the template line that most plausibly produced rendered MJML ``line``."""
    lines = source.splitlines()
    if env is None or not 0 < line <= len(lines):
        return f"{name} (rendered MJML line {line})"
    target = lines[line - 1]
    best: _Candidate | None = None
    for tname in _mjml_templates(env, name):
        try:
            text, filename, _ = env.loader.get_source(env, tname)  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            continue
        for number, tline in enumerate(text.splitlines(), 1):
            score = _match(tline, target)
            if score and (best is None or score > best.score):
                best = _Candidate(filename or tname, number, score)
    return f"{best.filename}:{best.line}" if best else name


def _mjml_templates(env: jinja2.Environment, name: str) -> list[str]:
    """``name`` and the templates it includes (recursively): only they can have made its lines."""
    from jinja2 import meta

    found, todo = [name], [name]
    while todo:
        try:
            text = env.loader.get_source(env, todo.pop())[0]  # type: ignore[union-attr]
            refs = meta.find_referenced_templates(env.parse(text))
        except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError):
            continue
        for ref in refs:
            if ref and ref not in found:
                found.append(ref)
                todo.append(ref)
    return [name, *sorted(found[1:])]


def _match(template_line: str, rendered: str) -> int:
    """How much literal text of ``template_line`` appears, in order, in ``rendered`` (0: none of it)."""
    fragments = [f.strip() for f in _JINJA.split(template_line)]
    fragments = [f for f in fragments if f]
    if not fragments:
        return 0
    at = score = 0
    for fragment in fragments:
        found = rendered.find(fragment, at)
        if found < 0:
            continue  # text inside an {% if %} that was false: it counts for nothing, and does not rule the line out
        at = found + len(fragment)
        score += len(fragment)
    return score


def mjml_bin() -> str | None:
    """The reference compiler named by ``DIGEST_MJML_BIN``, if set."""
    return os.environ.get("DIGEST_MJML_BIN") or None


def validate_strict(source: str, binary: str | None = None, timeout: float = 60.0) -> str:
    """Compile ``source`` with the reference npm ``mjml`` in strict validation; its HTML, or TemplateError."""
    binary = binary or mjml_bin()
    if not binary:
        raise ConfigError(
            "DIGEST_MJML_BIN is not set: install the reference compiler with"
            " 'npm install --prefix .ci mjml@4' and point DIGEST_MJML_BIN at .ci/node_modules/.bin/mjml"
        )
    try:
        done = subprocess.run(
            [binary, "-i", "-s", "--config.validationLevel", "strict", "--config.minify", "false"],
            input=source,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot run {binary}: {exc}; check DIGEST_MJML_BIN") from None
    if done.returncode != 0:
        detail = " | ".join(line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip())
        raise TemplateError(f"mjml (strict) rejects the template: {detail}")
    return done.stdout
