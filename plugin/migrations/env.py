"""Alembic environment: migrations run on the connection the service hands over."""

from alembic import context

from plugin.storage import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through plugin.storage.upgrade (or `trustdesk db upgrade`)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
