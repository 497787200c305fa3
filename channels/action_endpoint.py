"""Calls to the action server that wait out a short outage instead of dropping the answer.

Rasa 3.6 logs and carries on when a custom action's call fails: the customer's message is
in the tracker, the action's reply is not, and nobody is told. A refused or reset
connection, or a load balancer's 502/503/504, means no action server could take the call
(restarting, or every one of them down), so the call is tried again for up to
`POSTA_ACTION_PATIENCE` seconds (60): a restart delays answers, it does not lose them.
Repeating a call is safe because the actions' effects are keyed (one open case per
customer, outbox rows keyed by the message being handled).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Optional

import aiohttp
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from posta import backoff

logger = logging.getLogger(__name__)

PATIENCE = float(os.environ.get("POSTA_ACTION_PATIENCE", "60"))
NOBODY_ANSWERED = (502, 503, 504)


class PatientEndpoint(EndpointConfig):
    async def request(self, *args: Any, **kwargs: Any) -> Optional[Any]:
        deadline = time.monotonic() + PATIENCE
        for pause in backoff.pauses(first=0.25, most=2.0):
            try:
                return await super().request(*args, **kwargs)
            except (aiohttp.ClientConnectionError, ClientResponseError) as error:
                if isinstance(error, ClientResponseError) and error.status not in NOBODY_ANSWERED:
                    raise
                if time.monotonic() + pause > deadline:
                    raise
                logger.warning("action server unreachable (%s); trying again in %.1f s", type(error).__name__, pause)
                await asyncio.sleep(pause)


def be_patient(agent) -> None:
    """Makes the loaded agent's action calls patient (the processor holds its own reference)."""
    endpoint = agent.action_endpoint
    if endpoint is None or isinstance(endpoint, PatientEndpoint):
        return
    patient = PatientEndpoint(
        endpoint.url,
        endpoint.params,
        endpoint.headers,
        endpoint.basic_auth,
        endpoint.token,
        endpoint.token_name,
        endpoint.cafile,
        **endpoint.kwargs,
    )
    agent.action_endpoint = patient
    if agent.processor is not None:
        agent.processor.action_endpoint = patient
