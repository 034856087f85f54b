"""Storage: the engine and database sessions (`database`), the typed models
(`models`), the text both databases can store (`text`), the safe HTML each
message is stored with (`message_html`, and `html_backfill` for rows from before
it was) and the Alembic migrations (`migrations/`).

The lowest area: it imports nothing of the coach but `coach.errors`.
"""
