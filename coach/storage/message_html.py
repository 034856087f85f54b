"""Message text to safe HTML, rendered once when a message is stored.

Every message row keeps its content as HTML beside the text (`Message.content_html`,
filled by a flush listener in `coach.storage.models.conversation`, whichever code
writes the message), so that showing a long conversation costs no Markdown at all.
It lives in storage because storage renders it, and storage imports nothing above it.

Text from the model is untrusted: Markdown is parsed with raw HTML switched off
(`js-default`), then the result is cleaned with nh3, allowing no images and
links only to https and mailto, and one relative link: to the plan page of the
message's own conversation, which the reply showing a plan asked for in the chat
carries (`coach.plans.chat`). Any other relative or protocol-relative ("//host")
link loses its target.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

# The browser's page for one version of a session's plan (`coach.web.pages.plan`):
# the one relative link a message may carry.
PLAN_PAGE = "/chat/{session_id}/plan?version={version}"

_markdown = MarkdownIt("js-default")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "h3", "h4", "h5", "h6", "a", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"https", "mailto"}


def is_plan_page(href: str, session_id: int) -> bool:
    """Whether a link goes to one of this session's plan versions, and nowhere else."""
    return re.fullmatch(rf"/chat/{session_id}/plan\?version=\d{{1,9}}", href) is not None


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
