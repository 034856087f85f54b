"""The web: the one JSON API blueprint under /api/v1 (`api`, a module per resource),
the browser pages (`pages`), who is asking (`auth`), rate limits, the SSE writer
(`streaming`), the API's shapes as pydantic models (`schemas`) and the bodies built
from them (`representations`), the OpenAPI document generated from both
(`openapi`) and its browsable page at /api/docs, health, and errors as HTTP.

The top area: views parse, call one service, and render. Nothing below imports it.
"""
