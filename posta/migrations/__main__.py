"""`make migrate`: brings the configured database's Posta tables to this version."""

import sqlalchemy as sa

from posta.db import database_url
from posta.migrations import current, upgrade

engine = sa.create_engine(database_url())
upgrade(engine)
with engine.connect() as conn:
    print(f"{engine.url.render_as_string(hide_password=True)}: Posta's tables at revision {current(conn)}")
