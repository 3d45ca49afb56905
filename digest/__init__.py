"""digest: collect stories, rank a Top Stories digest, render it through MJML and send it."""

__version__ = "0.1.0"
