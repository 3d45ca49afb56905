"""The MJML 4 vocabulary: every component with the attributes it takes, and which tags may hold which.

Generated from the reference compiler's own tables (npm ``mjml`` 4: each component's ``allowedAttributes``
and ``mjml-validator``'s dependencies) with ``node .ci/mjml_vocabulary.js``, so templates are checked as
``mjml --config.validationLevel strict`` checks them, without node. mjml-python renders these components.
"""

from __future__ import annotations

# Allowed on every component (mjml-validator's whitelist).
GLOBAL_ATTRIBUTES = frozenset({"mj-class", "css-class"})
# Tags with no component of their own that MJML accepts anyway (inside mj-attributes, mj-html-attributes).
COMPONENTLESS = frozenset({"mj-all", "mj-class", "mj-selector", "mj-html-attribute"})

# component -> its attributes (space-separated)
ATTRIBUTES: dict[str, str] = {
    "mj-accordion": (
        "border container-background-color font-family icon-align icon-height icon-position "
        "icon-unwrapped-alt icon-unwrapped-url icon-width icon-wrapped-alt icon-wrapped-url padding "
        "padding-bottom padding-left padding-right padding-top"
    ),
    "mj-accordion-element": (
        "background-color border font-family icon-align icon-height icon-position icon-unwrapped-alt "
        "icon-unwrapped-url icon-width icon-wrapped-alt icon-wrapped-url"
    ),
    "mj-accordion-text": (
        "background-color color font-family font-size font-weight letter-spacing line-height padding "
        "padding-bottom padding-left padding-right padding-top"
    ),
    "mj-accordion-title": (
        "background-color color font-family font-size font-weight padding padding-bottom padding-left "
        "padding-right padding-top"
    ),
    "mj-attributes": "",
    "mj-body": "background-color width",
    "mj-breakpoint": "width",
    "mj-button": (
        "align background-color border border-bottom border-left border-radius border-right border-top color "
        "container-background-color font-family font-size font-style font-weight height href inner-padding "
        "letter-spacing line-height name padding padding-bottom padding-left padding-right padding-top rel "
        "target text-align text-decoration text-transform title vertical-align width"
    ),
    "mj-carousel": (
        "align border-radius container-background-color icon-width left-icon padding padding-bottom "
        "padding-left padding-right padding-top right-icon tb-border tb-border-radius tb-hover-border-color "
        "tb-selected-border-color tb-width thumbnails"
    ),
    "mj-carousel-image": "alt border-radius href rel src target tb-border tb-border-radius thumbnails-src title",
    "mj-column": (
        "background-color border border-bottom border-left border-radius border-right border-top direction "
        "inner-background-color inner-border inner-border-bottom inner-border-left inner-border-radius "
        "inner-border-right inner-border-top padding padding-bottom padding-left padding-right padding-top "
        "vertical-align width"
    ),
    "mj-divider": (
        "align border-color border-style border-width container-background-color padding padding-bottom "
        "padding-left padding-right padding-top width"
    ),
    "mj-font": "href name",
    "mj-group": "background-color direction vertical-align width",
    "mj-head": "",
    "mj-hero": (
        "background-color background-height background-position background-url background-width border-radius "
        "container-background-color height inner-background-color inner-padding inner-padding-bottom "
        "inner-padding-left inner-padding-right inner-padding-top mode padding padding-bottom padding-left "
        "padding-right padding-top vertical-align"
    ),
    "mj-html-attributes": "",
    "mj-image": (
        "align alt border border-bottom border-left border-radius border-right border-top "
        "container-background-color fluid-on-mobile font-size height href max-height name padding "
        "padding-bottom padding-left padding-right padding-top rel sizes src srcset target title usemap width"
    ),
    "mj-navbar": (
        "align base-url hamburger ico-align ico-close ico-color ico-font-family ico-font-size ico-line-height "
        "ico-open ico-padding ico-padding-bottom ico-padding-left ico-padding-right ico-padding-top "
        "ico-text-decoration ico-text-transform padding padding-bottom padding-left padding-right padding-top"
    ),
    "mj-navbar-link": (
        "color font-family font-size font-style font-weight href letter-spacing line-height name padding "
        "padding-bottom padding-left padding-right padding-top rel target text-decoration text-transform"
    ),
    "mj-preview": "",
    "mj-raw": "position",
    "mj-section": (
        "background-color background-position background-position-x background-position-y background-repeat "
        "background-size background-url border border-bottom border-left border-radius border-right "
        "border-top direction full-width padding padding-bottom padding-left padding-right padding-top "
        "text-align text-padding"
    ),
    "mj-social": (
        "align border-radius color container-background-color font-family font-size font-style font-weight "
        "icon-height icon-padding icon-size inner-padding line-height mode padding padding-bottom "
        "padding-left padding-right padding-top table-layout text-decoration text-padding vertical-align"
    ),
    "mj-social-element": (
        "align alt background-color border-radius color font-family font-size font-style font-weight href "
        "icon-height icon-padding icon-position icon-size line-height name padding padding-bottom "
        "padding-left padding-right padding-top rel sizes src srcset target text-decoration text-padding "
        "title vertical-align"
    ),
    "mj-spacer": (
        "border border-bottom border-left border-right border-top container-background-color height padding "
        "padding-bottom padding-left padding-right padding-top"
    ),
    "mj-style": "inline",
    "mj-table": (
        "align border cellpadding cellspacing color container-background-color font-family font-size "
        "font-weight line-height padding padding-bottom padding-left padding-right padding-top role "
        "table-layout vertical-align width"
    ),
    "mj-text": (
        "align background-color color container-background-color font-family font-size font-style font-weight "
        "height letter-spacing line-height padding padding-bottom padding-left padding-right padding-top "
        "text-decoration text-transform vertical-align"
    ),
    "mj-title": "",
    "mj-wrapper": (
        "background-color background-position background-position-x background-position-y background-repeat "
        "background-size background-url border border-bottom border-left border-radius border-right "
        "border-top direction full-width gap padding padding-bottom padding-left padding-right padding-top "
        "text-align text-padding"
    ),
    "mjml": "dir lang owa",
}

# parent -> the tags it may hold (space-separated; "" holds no tags); a parent not listed is not checked
CHILDREN: dict[str, str] = {
    "mj-accordion": "mj-accordion-element mj-raw",
    "mj-accordion-element": "mj-accordion-text mj-accordion-title mj-raw",
    "mj-accordion-text": "",
    "mj-accordion-title": "",
    "mj-body": "mj-hero mj-raw mj-section mj-wrapper",
    "mj-button": "",
    "mj-carousel": "mj-carousel-image",
    "mj-carousel-image": "",
    "mj-column": (
        "mj-accordion mj-button mj-carousel mj-divider mj-image mj-navbar mj-raw mj-social mj-spacer mj-table mj-text"
    ),
    "mj-divider": "",
    "mj-group": "mj-column mj-raw",
    "mj-head": "mj-attributes mj-breakpoint mj-font mj-html-attributes mj-preview mj-raw mj-style mj-title",
    "mj-hero": (
        "mj-accordion mj-button mj-carousel mj-divider mj-image mj-navbar mj-raw mj-social mj-spacer mj-table mj-text"
    ),
    "mj-html-attribute": "",
    "mj-html-attributes": "mj-selector",
    "mj-image": "",
    "mj-navbar": "mj-navbar-link mj-raw",
    "mj-raw": "",
    "mj-section": "mj-column mj-group mj-raw",
    "mj-selector": "mj-html-attribute",
    "mj-social": "mj-raw mj-social-element",
    "mj-social-element": "",
    "mj-spacer": "",
    "mj-table": "",
    "mj-text": "",
    "mj-wrapper": "mj-hero mj-raw mj-section",
    "mjml": "mj-body mj-head mj-raw",
}
