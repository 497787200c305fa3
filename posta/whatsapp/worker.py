"""The outbox worker: `python -m posta.whatsapp.worker`.

Sends everything Posta writes to the outbox — bot replies, relayed agent messages, case
notifications — to the Graph API, in its own process: the Rasa server only writes rows,
so the HTTP calls, retries and bookkeeping of sending do not take CPU from understanding
messages. It looks for new rows every `POSTA_OUTBOX_POLL` seconds (default 0.01). Several
workers can run at once (replicas): claiming a row is a conditional update, so each row is
sent by one of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from posta import config as posta_config, desk
from posta.store import CaseStore
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.graph import GraphClient
from posta.whatsapp.outbox import Outbox, Sender
from posta.whatsapp.settings import WhatsAppSettings

logger = logging.getLogger("posta.whatsapp.worker")


async def serve(settings: WhatsAppSettings, poll: float) -> None:
    config, store, outbox = posta_config.current(), CaseStore(), Outbox()

    async def failed(row, error: str) -> None:
        await asyncio.to_thread(desk.surface_failure, config, store, outbox, row, error)

    sender = Sender(outbox, GraphClient(settings.graph), Contacts(), on_failure=failed, poll=poll)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, sender.stop)
    logger.info("outbox worker: sending to %s as phone number id %s", settings.graph.messages_url,
                settings.phone_number_id or "?")
    try:
        await sender.run()
        await sender.drain()
    finally:
        await sender.client.close()


def main() -> None:
    logging.basicConfig(level=os.environ.get("POSTA_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)-8s %(name)s  - %(message)s")
    settings = WhatsAppSettings.load()
    if not settings.access_token:
        logger.warning("outbox worker: no WHATSAPP_ACCESS_TOKEN; the Graph API will refuse every send")
    asyncio.run(serve(settings, float(os.environ.get("POSTA_OUTBOX_POLL", "0.01"))))


if __name__ == "__main__":
    main()
