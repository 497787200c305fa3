"""Posta's action server: Rasa SDK's, trusting only the Rasa server.

    python -m actions.server --port 5055      (what make run and the production profile run)

The actions open and close cases and write to agents' phones, so a caller must be the Rasa
server: every call carries `POSTA_ACTIONS_SECRET` in the `X-Posta-Actions-Secret` header
(endpoints.yml sends it), or is refused with 401 and logged. It listens on loopback
unless `POSTA_ACTIONS_HOST` says otherwise, sends no CORS headers, and does not start
without the secret. `/health` stays open for readiness checks.
"""

from __future__ import annotations

import logging

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser
from sanic import response

from posta import web

logger = logging.getLogger(__name__)

HEADER = "X-Posta-Actions-Secret"
OPEN = ("/health",)


def app(secret: str, actions: str = "actions"):
    server = create_app(actions, cors_origins=None)

    async def only_rasa(request):
        if request.path in OPEN or web.same_secret(request.headers.get(HEADER), secret):
            return None
        logger.warning(
            "action server: refused a %s %s from %s without the shared secret", request.method, request.path, request.ip
        )
        return response.json({"error": f"the action server answers only the Rasa server ({HEADER})"}, status=401)

    server.register_middleware(only_rasa, "request")
    return server


def main() -> None:
    args = create_argument_parser().parse_args()
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    secret = web.secret("POSTA_ACTIONS_SECRET", "the action server answers only callers that send it")
    host = web.bind_address("POSTA_ACTIONS_HOST")
    logger.info("Posta action server on http://%s:%s", host, args.port)
    app(secret, args.actions or "actions").run(host, args.port, workers=1)


if __name__ == "__main__":
    main()
