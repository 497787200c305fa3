"""Alembic's entry point: runs on the connection `posta.migrations.upgrade` hands it."""

from alembic import context

from posta.migrations import VERSION_TABLE, ours
from posta.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    include_name=ours,
    render_as_batch=True,  # SQLite alters tables by copying them
    user_module_prefix="",
)  # new migrations write UTCDateTime(), imported by the template
with context.begin_transaction():
    context.run_migrations()
