"""The web: the one JSON API blueprint under /api/v1 (`api`, a module per resource),
the browser pages (`pages`), who is asking (`auth`), rate limits, the SSE writer
(`streaming`), the JSON shapes (`representations`), the OpenAPI document, health,
and errors as HTTP.

The top area: views parse, call one service, and render. Nothing below imports it.
"""
