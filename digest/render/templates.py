"""Finding and loading templates: the newsletter's own ``templates/`` first, then the defaults."""

from __future__ import annotations

import shutil
from datetime import date as date_type
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from digest.config import Config
from digest.errors import TemplateError
from digest.placeholders import Slot, defuse


@lru_cache(maxsize=1)
def default_templates_dir() -> Path:
    """The shipped templates: inside the installed package, or ``templates/`` of a checkout (found once)."""
    packaged = Path(str(resources.files("digest"))) / "templates"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if checkout.is_dir():
        return checkout
    raise TemplateError("the default templates are missing from this install; reinstall digest")


def _autoescape(name: str | None) -> bool:
    """Escape everything but the plain-text templates (``*.txt.j2``)."""
    return not (name or "").endswith(".txt.j2")


def template_paths(config: Config) -> tuple[str, ...]:
    """Where templates are looked up, in order: the home's ``templates/`` (if any), then the defaults."""
    paths = [str(config.templates_dir)] if config.templates_dir.is_dir() else []
    paths.append(str(default_templates_dir()))
    return tuple(paths)


def environment(config: Config) -> jinja2.Environment:
    """The Jinja environment for a home (cached; templates reload when their file changes)."""
    return _environment(template_paths(config))


def wrap(text: str, width: int = 72) -> str:
    """Greedy word wrap for the plain-text part (the ``wrap`` filter).

    Several times faster than Jinja's ``wordwrap`` (textwrap), and never breaks a long word such as a URL.
    """
    out: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            if not line:
                line = word
            elif len(line) + 1 + len(word) <= width:
                line += " " + word
            else:
                out.append(line)
                line = word
        out.append(line)
    return "\n".join(out)


def long_date(day: str) -> str:
    """``2026-11-24`` as ``Tuesday, 24 November 2026``."""
    d = date_type.fromisoformat(day)
    return f"{d:%A}, {d.day} {d:%B %Y}"


def neutralise(value: Any) -> Any:
    """Jinja's ``finalize``: story text (untrusted) never carries a per-reader slot (:func:`placeholders.defuse`)."""
    if isinstance(value, str) and not isinstance(value, Slot):
        return defuse(value)
    return value


@lru_cache(maxsize=16)
def _environment(paths: tuple[str, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(paths)),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
        finalize=neutralise,
    )
    env.filters["wrap"] = wrap
    return env


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or name
        raise TemplateError(f"{where}:{exc.lineno}: {exc.message}; fix the template") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found in templates/ or the defaults") from None
    except (jinja2.UndefinedError, TypeError, ValueError, AttributeError) as exc:
        raise TemplateError(f"{_where(exc, name)}: {exc}; fix the template") from None


def _where(exc: BaseException, name: str) -> str:
    """file:line of the innermost template frame in a rendering traceback (Jinja maps those lines)."""
    tb = exc.__traceback__
    found = name
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def template_files() -> list[Path]:
    """Every shipped template, relative to the defaults folder."""
    base = default_templates_dir()
    return sorted(p.relative_to(base) for p in base.rglob("*.j2") if p.is_file())


def template_overview(config: Config) -> list[dict[str, Any]]:
    """Each shipped template, whether the home's ``templates/`` overrides it, and the file that is used."""
    rows = []
    for rel in template_files():
        mine = config.templates_dir / rel
        used = mine if mine.is_file() else default_templates_dir() / rel
        rows.append({"template": str(rel), "overridden": mine.is_file(), "path": str(used)})
    return rows


def copy_defaults(config: Config, force: bool = False) -> tuple[list[Path], list[Path]]:
    """Copy the shipped templates into the home's ``templates/``: (written, kept as they were)."""
    base = default_templates_dir()
    written: list[Path] = []
    kept: list[Path] = []
    for rel in template_files():
        target = config.templates_dir / rel
        if target.exists() and not force:
            kept.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / rel, target)
        written.append(target)
    return written, kept
