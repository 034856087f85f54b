"""Storage: the engine and database sessions (`database`), the typed models
(`models`) and the Alembic migrations (`migrations/`).

The lowest area: it imports nothing of the coach but `coach.errors`.
"""
