"""How stored moments leave the app: always in UTC with an explicit offset.

SQLite hands datetimes back without their zone (they are stored in UTC);
PostgreSQL keeps it. `Timestamp` makes both the same ISO 8601 string in every
JSON answer, and says so in the OpenAPI document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema


def in_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


Timestamp = Annotated[
    datetime,
    AfterValidator(in_utc),
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
