"""The worker: `python -m posta.whatsapp.worker`.

Sends everything Posta writes to the outbox — bot replies, relayed agent messages, case
notifications — to the Graph API, in its own process: the Rasa server only writes rows,
so the HTTP calls, retries and bookkeeping of sending do not take CPU from understanding
messages. On PostgreSQL it LISTENs for the NOTIFY that every outbox write commits (so a
notification written by any replica leaves at once) and looks at the table every second
as a safety net; on SQLite it looks every 0.01 s (`POSTA_OUTBOX_POLL` overrides both). It runs
the timed work of `posta.jobs` (opening digests, escalations, retention) every
`POSTA_JOBS_EVERY` seconds (default 15). Several workers can run at once (replicas):
claiming a row is a conditional update and each job run is claimed by key, so each row is
sent, and each job done, by one of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Optional

from posta import alerts, jobs, pg_notify
from posta import config as posta_config
from posta.hours import business_now
from posta.store import CaseStore
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.graph import GraphClient
from posta.whatsapp.outbox import Outbox, Sender
from posta.whatsapp.settings import WhatsAppSettings

logger = logging.getLogger("posta.whatsapp.worker")

POLL = 0.01  # seconds between looks at the outbox on SQLite, where nobody can notify
LISTENING_POLL = 1.0  # on PostgreSQL, where NOTIFY wakes the worker: a safety net and retries' clock


async def serve(settings: WhatsAppSettings, poll: Optional[float] = None) -> None:
    config, store, outbox = posta_config.current(), CaseStore(), Outbox()

    async def failed(row, error: str) -> None:
        await asyncio.to_thread(alerts.surface_failure, config, store, outbox, row, error)

    listening = pg_notify.can_listen(outbox.engine)
    if poll is None:  # listening, polling is only the safety net
        poll = LISTENING_POLL if listening else POLL
    sender = Sender(outbox, GraphClient(settings.graph), Contacts(), on_failure=failed, poll=poll)
    listener = (
        asyncio.ensure_future(pg_notify.listen(outbox.engine, pg_notify.OUTBOX, sender.wake)) if listening else None
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, sender.stop)
    logger.info(
        "outbox worker: sending to %s as phone number id %s",
        settings.graph.messages_url,
        settings.phone_number_id or "?",
    )
    every = float(os.environ.get("POSTA_JOBS_EVERY", "15"))  # 0 turns timed jobs off (tests with a fixed clock)
    jobs_task = asyncio.ensure_future(run_jobs(config, store, outbox, every)) if every > 0 else None
    try:
        await sender.run()
        await sender.drain()
    finally:
        for task in (jobs_task, listener):
            if task:
                task.cancel()
        await sender.client.close()


async def run_jobs(config, store, outbox, every: float) -> None:
    contacts = Contacts()
    while True:
        try:
            ran = await asyncio.to_thread(jobs.run_due, config, store, outbox, contacts, business_now(config.timezone))
            if ran:
                logger.info("jobs: %s", ", ".join(ran))
        except Exception:  # keep sending even if a job fails; it is tried again next time
            logger.exception("jobs: a timed job failed")
        await asyncio.sleep(every)


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("POSTA_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)-8s %(name)s  - %(message)s"
    )
    settings = WhatsAppSettings.load()
    if not settings.access_token:
        logger.warning("outbox worker: no WHATSAPP_ACCESS_TOKEN; the Graph API will refuse every send")
    poll = os.environ.get("POSTA_OUTBOX_POLL")
    asyncio.run(serve(settings, float(poll) if poll else None))


if __name__ == "__main__":
    main()
