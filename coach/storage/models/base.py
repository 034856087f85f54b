"""What every stored model shares: the declarative `Base` (with the column types its
annotations map to), the `utcnow` default of the timestamp columns, and the length
of a model's name, which messages, plans and strategy labels all record.

The models themselves live beside this module, one module per kind of data; the
package (`coach.storage.models`) imports them all and is what the app imports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, DateTime
from sqlalchemy.orm import DeclarativeBase

MODEL_NAME_CHARS = 200
# The largest id either database stores (a 32-bit integer): a bigger one asked for
# is refused as bad input, before SQLite would fail to bind it.
MAX_ID = 2_147_483_647


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        date: Date,
        dict[str, Any]: JSON,
    }
