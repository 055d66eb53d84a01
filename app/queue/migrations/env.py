"""Alembic's entry point: runs the migrations on the connection `app.queue.store` passes in.

There is no alembic.ini and no URL here: `store.upgrade(url)` (and `threadguard db upgrade`)
opens the connection, takes the migration lock and owns the transaction.
"""

from __future__ import annotations

from alembic import context

from app.queue.store import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations with `threadguard db upgrade` or app.queue.store.upgrade(url), "
        "which pass the connection in"
    )
if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: batch mode rebuilds the table, and is a no-op
    # wrapper on PostgreSQL, so every migration is written once for both.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
