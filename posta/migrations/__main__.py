"""`make migrate`: brings the configured database's Posta tables to this version.

`python -m posta.migrations revision "add cases.rating"` writes the next migration from
the difference between posta/schema.py and an up-to-date database (review it before
committing)."""

import sys

import sqlalchemy as sa
from alembic import command

from posta.db import database_url
from posta.migrations import config, current, upgrade

engine = sa.create_engine(database_url())
upgrade(engine)
if sys.argv[1:2] == ["revision"] and len(sys.argv) == 3:
    with engine.begin() as conn:
        command.revision(config(conn), message=sys.argv[2], autogenerate=True)
with engine.connect() as conn:
    print(f"{engine.url.render_as_string(hide_password=True)}: Posta's tables at revision {current(conn)}")
