"""Finding and loading templates: the newsletter's own ``templates/`` first, then the defaults."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from digest.config import Config
from digest.errors import TemplateError


def default_templates_dir() -> Path:
    """The shipped templates: inside the installed package, or ``templates/`` of a checkout."""
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


def environment(config: Config) -> jinja2.Environment:
    paths = [str(config.templates_dir)] if config.templates_dir.is_dir() else []
    paths.append(str(default_templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or name
        raise TemplateError(f"{where}:{exc.lineno}: {exc.message}; fix the template") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found in templates/ or the defaults") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{_where(exc, name)}: {exc}; fix the template") from None


def _where(exc: BaseException, name: str) -> str:
    tb = exc.__traceback__
    found = name
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".mjml", ".html", ".txt")):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found
