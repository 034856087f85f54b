"""Model and seeker text to safe HTML.

Text from the model is untrusted: Markdown is parsed with raw HTML switched off
(`js-default`), then the result is cleaned with nh3, allowing no images and
links only to https and mailto, and one relative link: to the plan page of the
message's own conversation, which the reply showing a plan asked for in the chat
carries (`coach.plans.chat`). Any other relative or protocol-relative ("//host")
link loses its target.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

from coach.plans.chat import is_plan_page

_markdown = MarkdownIt("js-default")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "h3", "h4", "h5", "h6", "a", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"https", "mailto"}


def render_markdown(text: str, *, session_id: int | None = None) -> str:
    """Safe HTML for `text`; `session_id` names the conversation it belongs to."""
    html = _markdown.render(text)

    def keep_link(tag: str, attribute: str, value: str) -> str | None:
        if tag != "a" or attribute != "href":
            return value
        if value.lower().startswith(tuple(f"{scheme}:" for scheme in ALLOWED_URL_SCHEMES)):
            return value
        return value if session_id is not None and is_plan_page(value, session_id) else None

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=keep_link,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
