"""Sponsored items: paid posts marked as such in their title or categories, left out unless kept.

Only explicit markers count: a bracketed or colon-led label at the start or end of the title
("[Sponsor] …", "Sponsored: …", "Partner content – …", "… (Advertorial)"), or a category that is exactly
such a label. A title merely mentioning a sponsor ("Club loses its shirt sponsor") is news.
"""

from __future__ import annotations

import re

from digest.models import StoryIn

# labels publishers put on paid posts, in the languages the corpus and common feeds use
_LABELS = (
    r"sponsor(?:ed)?(?: (?:content|post|story|article|link))?|sponsored by [^:\]\)|]{1,60}|"
    r"advertisement|advertorial|advert|paid (?:post|content|partnership|promotion)|promoted(?: content)?|"
    r"partner (?:content|post)|presented by [^:\]\)|]{1,60}|brought to you by [^:\]\)|]{1,60}|branded content|"
    r"anzeige|werbung|gesponsert|publicité|sponsorisé|contenu sponsorisé|publireportage|publirreportaje|"
    r"patrocinado|contenido patrocinado|publicidad|pubblicità|sponsorizzato|reclame|gesponsord|"
    r"реклама|спонсорский материал|広告|스폰서|赞助|广告"
)
_BRACKETED = rf"[\[\(【]\s*(?:{_LABELS}|partner)\s*[\]\)】]"
# short labels that are also abbreviations ("Active Directory (AD)", "(PR)"): only as a title's first word
_SHORT = r"[\[\(【]\s*(?:ad|pr)\s*[\]\)】]"
_TITLE = re.compile(
    rf"^\s*(?:{_BRACKETED}|{_SHORT}|(?:{_LABELS})(?:\s*[:|–—]|\s+-)\s*\S)|{_BRACKETED}\s*$|[|–—-]\s*(?:sponsored|advertorial|anzeige)\s*$",
    re.IGNORECASE,
)
_CATEGORY = re.compile(
    # a topic like "Advertising" or "Sponsorship" is news about the trade, not a label: not here
    r"^\s*(?:sponsor(?:ed)?(?: (?:content|post|posts|story|link))?|advertorial|advertorials|advertisement|"
    r"ad|paid (?:post|content|partnership)|partner content|promoted|branded content|"
    r"anzeige|werbung|gesponsert|sponsorisé|contenu sponsorisé|publireportage|publirreportaje|patrocinado|"
    r"publicidad|sponsorizzato|реклама|広告)\s*$",
    re.IGNORECASE,
)


def is_sponsored(story: StoryIn) -> bool:
    """The story is labelled as paid-for by its title or one of its categories."""
    return bool(_TITLE.search(story.title)) or any(_CATEGORY.match(tag) for tag in story.tags)
