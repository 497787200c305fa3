"""The team panel, served by the Rasa server at /webhooks/panel/ (a channel blueprint).

Agents log in (passwords from business.yml, hashed), see their teams' queue and their own
cases (admins see everything), read the summary and the whole thread from the tracker
store, and take, reply, note, transfer and hand back — the same desk operations agents
use from WhatsApp. Pages poll small JSON endpoints every few seconds for new messages:
the database is the source of truth, so this works whichever replica served the page.
Every route checks the session; every POST checks a CSRF token bound to it. Logins are
limited per name and per address (`posta.accounts.LoginLimits`), and their hashing runs
in one thread of its own, so a flood of them cannot stall the webhook or the bot. Demo
passwords work only with the simulator (`POSTA_SIMULATOR=1`, set by `make run`). Pages
carry a Content-Security-Policy with a nonce per response.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import jinja2
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import services as posta_services
from channels.services import services
from posta import commands, judgments, media, rasa_events, ratings, reports, review, texts, thread, web
from posta import config as business_config
from posta.accounts import SESSION_LIFETIME, Accounts, Login, LoginLimits, check_login, is_demo
from posta.config import Agent
from posta.desk import DeskError
from posta.states import CaseEventKind, InboundKind, Reason
from posta.store import Case
from posta.whatsapp.inbound import Inbound

logger = logging.getLogger(__name__)

ROOT = "/webhooks/panel"
COOKIE = "posta_session"
LOGIN_COOKIE = "posta_login_csrf"
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)
BADGES = {
    Reason.UNSURE: "unsure",
    Reason.REQUESTED: "requested",
    Reason.SENSITIVE: "sensitive",
    Reason.AGENT_TAKEOVER: "takeover",
}
LOOPBACK = ("127.0.0.1", "::1")
CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class TooMany(Exception):
    """Too many logins: this name or address must wait, or too many wait for the hasher."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"try again in {wait} s")
        self.wait = wait


class Hasher:
    """Password checks off the event loop, one at a time, with a short queue: a flood of
    logins waits its turn or is told to come back, while the webhook and the bot run on."""

    def __init__(self, waiting: int = 8) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="posta-login")
        self.most, self.waiting = waiting, 0

    async def run(self, function, *args):
        if self.waiting >= self.most:
            raise TooMany(1)
        self.waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, function, *args)
        finally:
            self.waiting -= 1


class PanelInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "panel"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "PanelInput":
        return cls()

    def __init__(self) -> None:
        self._accounts: Optional[Accounts] = None
        self._limits: Optional[LoginLimits] = None
        self.hasher = Hasher()
        self.demo_allowed = os.environ.get("POSTA_SIMULATOR") == "1"

    @property
    def accounts(self) -> Accounts:
        if self._accounts is None:
            self._accounts = Accounts()
        return self._accounts

    @property
    def limits(self) -> LoginLimits:
        if self._limits is None:
            self._limits = LoginLimits()
        return self._limits

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        panel = Blueprint("team_panel", __name__)
        posta_services.attach(panel)
        signed_in = functools.partial(_signed_in, self)

        @panel.listener("after_server_start")
        async def start(app, _loop) -> None:
            if self.demo_allowed:
                return
            for agent in services(app).config.agents:
                if is_demo(agent.password_hash):
                    logger.warning(
                        "panel: %s still has a demo password, which works only with the simulator; "
                        "they cannot sign in until given their own (scripts/hash-password)",
                        agent.name,
                    )

        @panel.route("/", methods=["GET"])
        async def home(request: Request) -> HTTPResponse:
            return response.redirect(f"{ROOT}/queue" if self._agent(request) else f"{ROOT}/login")

        @panel.route("/login", methods=["GET"])
        async def login_form(request: Request) -> HTTPResponse:
            return self._login_page(request)

        @panel.route("/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            form = request.form
            if not web.same_secret(form.get("csrf"), request.cookies.get(LOGIN_COOKIE)):
                return response.text("Forbidden (CSRF)", status=403)
            name, password, address = (form.get("name") or "")[:255], form.get("password") or "", _client(request)
            try:
                result = await self._check_login(request, name, password, address)
            except TooMany as refused:
                logger.warning(
                    "panel: login for %r from %s refused for %d s (too many)", name[:40], address, refused.wait
                )
                page = self._login_page(request, error="throttled", status=429, minutes=-(-refused.wait // 60))
                page.headers["Retry-After"] = str(refused.wait)
                return page
            if result.agent is None:
                logger.info("panel: failed login for %r from %s", name[:40], address)
                await asyncio.to_thread(self.limits.failed, name, address)
                return self._login_page(request, error="demo" if result.demo_refused else "wrong", status=401)
            await asyncio.to_thread(self.limits.succeeded, name)
            page = response.redirect(f"{ROOT}/queue", status=303)
            _set_cookie(request, page, COOKIE, self.accounts.open_session(result.agent), SESSION_LIFETIME)
            _set_cookie(request, page, LOGIN_COOKIE, "", timedelta(0))
            return page

        @panel.route("/logout", methods=["POST"])
        @signed_in
        async def logout(request: Request, agent: Agent) -> HTTPResponse:
            self.accounts.close_session(request.cookies.get(COOKIE))
            result = response.redirect(f"{ROOT}/login", status=303)
            _set_cookie(request, result, COOKIE, "", timedelta(0))
            return result

        @panel.route("/queue", methods=["GET"])
        @signed_in
        async def queue(request: Request, agent: Agent) -> HTTPResponse:
            return self._page(request, agent, "queue.html", cases=self._visible_cases(request, agent))

        @panel.route("/api/queue", methods=["GET"])
        @signed_in
        async def queue_json(request: Request, agent: Agent) -> HTTPResponse:
            return response.json({"cases": self._visible_cases(request, agent)})

        @panel.route("/cases/<case_id:int>", methods=["GET"])
        @signed_in
        async def case_page(request: Request, agent: Agent, case_id: int) -> HTTPResponse:
            case = self._case(request, agent, case_id)
            if case is None:
                return response.text("Not found", status=404)
            data = await self._case_data(request, agent, case)
            return self._page(
                request, agent, "case.html", data=data, targets=services(request.app).desk.transfer_targets()
            )

        @panel.route("/api/cases/<case_id:int>", methods=["GET"])
        @signed_in
        async def case_json(request: Request, agent: Agent, case_id: int) -> HTTPResponse:
            case = self._case(request, agent, case_id)
            if case is None:
                return response.json({"error": "not found"}, status=404)
            return response.json(await self._case_data(request, agent, case))

        @panel.route("/cases/<case_id:int>/<action:str>", methods=["POST"])
        @signed_in
        async def act(request: Request, agent: Agent, case_id: int, action: str) -> HTTPResponse:
            if not self._csrf_ok(request):
                return response.json({"error": "CSRF token missing or wrong"}, status=403)
            case = self._case(request, agent, case_id)
            if case is None:
                return response.json({"error": "not found"}, status=404)
            try:
                message = await self._act(request, agent, case, action)
            except DeskError as refused:
                return response.json({"error": refused.message(agent.language)}, status=409)
            return response.json(
                {
                    "ok": True,
                    "message": message,
                    "case": _case_json(services(request.app).store.get(case_id), agent.language),
                }
            )

        @panel.route("/cases/<case_id:int>/attach", methods=["POST"])
        @signed_in
        async def attach(request: Request, agent: Agent, case_id: int) -> HTTPResponse:
            """A file the agent attaches in the panel reaches the customer as the same kind
            of message (a photo as a photo), like one sent from their phone."""
            if not self.accounts.csrf_ok(request.cookies.get(COOKIE), request.headers.get("X-CSRF-Token")):
                return response.json({"error": "CSRF token missing or wrong"}, status=403)
            case = self._case(request, agent, case_id)
            file = request.files.get("file") if request.files else None
            if case is None:
                return response.json({"error": "not found"}, status=404)
            if file is None or not file.body:
                return response.json({"error": "no file"}, status=400)
            mime_type = file.type or "application/octet-stream"
            sent = {"type": media.kind_for(mime_type), "filename": file.name, "caption": request.form.get("caption")}
            message = Inbound(
                id=f"panel-{secrets.token_hex(8)}",
                sender=agent.phone,
                kind=InboundKind.MEDIA,
                media={k: v for k, v in sent.items() if v},
            )
            try:
                desk = services(request.app).desk
                await desk.reply_media(
                    agent, desk.own_case(agent, case.id), message, media.Download(file.body, mime_type)
                )
            except DeskError as refused:
                return response.json({"error": refused.message(agent.language)}, status=409)
            return response.json({"ok": True})

        @panel.route("/media/<media_id:int>", methods=["GET"])
        @signed_in
        async def media_file(request: Request, agent: Agent, media_id: int) -> HTTPResponse:
            """A photo, voice note or document of a conversation the agent may see."""
            kept = await asyncio.to_thread(services(request.app).desk.media.get, media_id, True)
            case = kept and await asyncio.to_thread(services(request.app).store.latest_case_for, kept.conversation_id)
            if (
                not kept
                or not case
                or not (services(request.app).desk.may_see(agent, case) or case.agent == agent.name)
            ):
                return response.text("Not found", status=404)
            shown_inline = kept.kind in ("image", "sticker", "audio", "voice", "video")
            name = "".join(ch for ch in (kept.filename or f"{kept.kind}-{kept.id}") if ch.isalnum() or ch in "._- ")
            headers = {
                "Content-Disposition": f'{"inline" if shown_inline else "attachment"}; filename="{name}"',
                "Cache-Control": "private, max-age=3600",
            }
            return response.raw(kept.content, content_type=kept.mime_type, headers=headers)

        @panel.route("/customers/<phone:str>/erase", methods=["POST"])
        @signed_in
        async def erase(request: Request, agent: Agent, phone: str) -> HTTPResponse:
            if not self._csrf_ok(request):
                return response.json({"error": "CSRF token missing or wrong"}, status=403)
            try:
                rows = await asyncio.to_thread(services(request.app).desk.erase, agent, phone)
            except DeskError as refused:
                return response.json({"error": refused.message(agent.language)}, status=403)
            return response.json({"ok": True, "rows": rows})

        @panel.route("/reports", methods=["GET"])
        @signed_in
        async def reports_page(request: Request, agent: Agent) -> HTTPResponse:
            first, last = self._period(request)
            report = self._report(request)
            return self._page(
                request,
                agent,
                "reports.html",
                report=report.as_dict(),
                first=first,
                last=last,
                charts=_charts(report, agent.language),
                reason_labels={r: texts.label("reason_" + r, agent.language) for r in report.precision},
            )

        @panel.route("/api/reports", methods=["GET"])
        @signed_in
        async def reports_json(request: Request, agent: Agent) -> HTTPResponse:
            return response.json(self._report(request).as_dict())

        @panel.route("/review", methods=["GET"])
        @signed_in
        async def review_page(request: Request, agent: Agent) -> HTTPResponse:
            """The designer's loop for admins: the period's judged and flagged cases, each
            with one-click choices that write its lesson into the business's files."""
            if not agent.is_admin:
                return response.text("Forbidden: admins only", status=403)
            first, last = self._period(request)
            reviewed, day = await asyncio.to_thread(self._reviewed, request)
            business = business_config.business_dir()
            return self._page(
                request,
                agent,
                "review.html",
                items=[_review_json(r, agent.language) for r in reviewed],
                intents=review.intents(business),
                thresholds={d: review.threshold_rows(reviewed, d) for d in ("fallback", "sensitive")},
                current=review.current_thresholds(business),
                first=first,
                last=last,
                day=day,
            )

        @panel.route("/api/review", methods=["GET"])
        @signed_in
        async def review_json(request: Request, agent: Agent) -> HTTPResponse:
            if not agent.is_admin:
                return response.json({"error": "admins only"}, status=403)
            reviewed, day = await asyncio.to_thread(self._reviewed, request)
            return response.json({"day": day, "items": [_review_json(r, agent.language) for r in reviewed]})

        @panel.route("/review/<subject:str>", methods=["POST"])
        @signed_in
        async def review_choice(request: Request, agent: Agent, subject: str) -> HTTPResponse:
            """One click: the lesson of a case or a low-rated conversation (case-12, rating-3):
            an example, a story, both, or none; kept with it and written with the period's
            others into the day's review files."""
            if not self._csrf_ok(request):
                return response.json({"error": "CSRF token missing or wrong"}, status=403)
            if not agent.is_admin:
                return response.json({"error": "admins only"}, status=403)
            body = request.json or {}
            choice = {"choice": body.get("choice"), "intent": body.get("intent")}
            if choice["choice"] not in review.CHOICES or (
                choice["choice"] != "skip" and choice["intent"] not in review.intents(business_config.business_dir())
            ):
                return response.json({"error": "choose both, example, story or skip, and an intent"}, status=400)
            if not await asyncio.to_thread(_keep_choice, services(request.app).store, subject, choice, agent.name):
                return response.json({"error": "not found"}, status=404)
            reviewed, day = await asyncio.to_thread(self._reviewed, request)
            written = await asyncio.to_thread(review.write, reviewed, business_config.business_dir(), day)
            item = next((r for r in reviewed if r.subject == subject), None)
            return response.json(
                {
                    "ok": True,
                    "files": [str(p.relative_to(business_config.review_dir())) for p in written],
                    "item": item and _review_json(item, agent.language),
                }
            )

        @panel.route("/review/files/<kind:str>", methods=["GET"])
        @signed_in
        async def review_file(request: Request, agent: Agent, kind: str) -> HTTPResponse:
            """A review file as it stands, to take from a server the designer does not work on."""
            if not agent.is_admin or kind not in review.FILES:
                return response.text("Not found", status=404)
            reviewed, day = await asyncio.to_thread(self._reviewed, request)
            path, text = review.files(reviewed, business_config.business_dir(), day)[kind]
            headers = {"Content-Disposition": f'attachment; filename="{path.name}"'}
            return response.text(text or "# nothing to write for this period yet\n", headers=headers)

        return panel

    # -- helpers ---------------------------------------------------------------------------

    async def _check_login(self, request: Request, name: str, password: str, address: str) -> Login:
        """The password check, unless this name or address must wait first (`TooMany`)."""
        wait = await asyncio.to_thread(self.limits.retry_after, name, address)
        if wait is not None:
            raise TooMany(wait)
        return await self.hasher.run(
            check_login, services(request.app).config.agents, name, password, self.demo_allowed
        )

    def _agent(self, request: Request) -> Optional[Agent]:
        name = self.accounts.agent_for(request.cookies.get(COOKIE))
        return services(request.app).config.agent_by_name(name) if name else None

    def _login_page(
        self, request: Request, error: Optional[str] = None, status: int = 200, **values: Any
    ) -> HTTPResponse:
        token = secrets.token_urlsafe(24)
        page = _html("login.html", status, csrf=token, error=error, **values)
        _set_cookie(request, page, LOGIN_COOKIE, token, timedelta(minutes=30))
        return page

    def _page(self, request: Request, agent: Agent, template: str, **values: Any) -> HTTPResponse:
        csrf = self.accounts.csrf_token(request.cookies.get(COOKIE))
        return _html(template, 200, agent=agent, csrf=csrf, en=agent.language == "en", **values)

    def _visible_cases(self, request: Request, agent: Agent):
        desk = services(request.app).desk
        visible = [c for c in services(request.app).store.open_cases() if desk.may_see(agent, c)]
        return [_case_json(c, agent.language) for c in visible]

    def _case(self, request: Request, agent: Agent, case_id: int) -> Optional[Case]:
        case = services(request.app).store.get(case_id)
        if case is None or not (services(request.app).desk.may_see(agent, case) or case.agent == agent.name):
            return None
        return case

    async def _case_data(self, request: Request, agent: Agent, case: Case) -> Dict[str, Any]:
        events = await asyncio.to_thread(rasa_events.load, services(request.app).store.engine, case.conversation_id)
        # Shown to the person who owns the chat: the customer sees their messages read.
        await asyncio.to_thread(services(request.app).desk.seen, agent, case, None, events)
        history = services(request.app).store.history(case.id)
        tz = services(request.app).config.timezone
        return {
            "case": _case_json(case, agent.language),
            "summary": case.summary.render(agent.language, case.id, tz),
            "thread": [
                line.as_dict() for line in thread.lines(events, agent.language, services(request.app).outbox.words_of)
            ],
            "notes": [
                {"by": e.actor, "text": e.detail, "at": e.at.isoformat()}
                for e in history
                if e.kind == CaseEventKind.NOTE
            ],
            "history": [
                {"kind": e.kind, "by": e.actor, "detail": e.detail, "at": e.at.isoformat()}
                for e in history
                if e.kind != CaseEventKind.NOTE
            ],
            "mine": case.agent == agent.name,
            # Was a person needed? Asked on the case once this agent handed it back.
            "judge": case.status == "closed"
            and agent.name in (case.agent, case.closed_by)
            and (case.judgment is None or (case.judgment == judgments.BOT and not case.judged_topic)),
            "judge_topics": [[t, texts.topic_name(t, agent.language)] for t in judgments.answerable_topics()],
        }

    async def _act(self, request: Request, agent: Agent, case: Case, action: str) -> str:
        """A panel button: the same command an agent gives on WhatsApp, on this case."""
        if action not in commands.PANEL_ACTIONS:
            raise DeskError("no_case", case=action)
        form = request.json if request.content_type.startswith("application/json") else request.form
        text = (form.get("text") or "").strip() if form else ""
        arg = text or None if action in ("reply", "note", "transfer", "judge") else None
        done = await commands.run(
            services(request.app).desk, agent, commands.Command(action, arg, case.id, via="panel")
        )
        return done.text

    def _csrf_ok(self, request: Request) -> bool:
        return self.accounts.csrf_ok(
            request.cookies.get(COOKIE), request.headers.get("X-CSRF-Token") or request.form.get("csrf")
        )

    def _reviewed(self, request: Request):
        """The period's judged and flagged cases, and the day the review files are named by."""
        config = services(request.app).config
        start, end = self._bounds(request)
        found = review.collect(services(request.app).store, [a.name for a in config.agents], start, end)
        return found, datetime.now(config.timezone).date().isoformat()

    def _period(self, request: Request):
        """The days asked for (from, to, both included); the last seven by default."""
        today = datetime.now(services(request.app).config.timezone).date()
        return (_date(request.args.get("from"), today - timedelta(days=6)), _date(request.args.get("to"), today))

    def _bounds(self, request: Request):
        """The period asked for as instants: from the first day's midnight to the last's end."""
        tz = services(request.app).config.timezone
        first, last = self._period(request)
        start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
        return start, datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)

    def _report(self, request: Request) -> reports.Report:
        return reports.build(services(request.app).store, services(request.app).config, *self._bounds(request))


def _signed_in(channel: PanelInput, handler):
    """Refuses requests without a live session: 401 JSON for the API, the login page otherwise."""

    @functools.wraps(handler)
    async def wrapper(request: Request, *args, **kwargs):
        agent = channel._agent(request)
        if agent is None:
            if "/api/" in request.path or request.method != "GET":
                return response.json({"error": "sign in first"}, status=401)
            return response.redirect(f"{ROOT}/login")
        return await handler(request, agent, *args, **kwargs)

    return wrapper


def _html(template: str, status: int, **values: Any) -> HTTPResponse:
    """A page whose scripts run only if they carry this response's nonce."""
    nonce = secrets.token_urlsafe(16)
    page = response.html(TEMPLATES.get_template(template).render(root=ROOT, nonce=nonce, **values), status=status)
    page.headers["Content-Security-Policy"] = CSP.format(nonce=nonce)
    return page


def _client(request: Request) -> str:
    """The client's address: the proxy's X-Forwarded-For when the request comes through
    one on this host (nginx sets it), the peer's address otherwise."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and request.ip in LOOPBACK:
        return forwarded.split(",")[-1].strip()
    return request.ip


def _set_cookie(request: Request, resp: HTTPResponse, name: str, value: str, lifetime: timedelta) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = ROOT
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = int(lifetime.total_seconds())
    if request.scheme == "https" or request.headers.get("x-forwarded-proto") == "https":
        cookie["secure"] = True


def _case_json(case: Case, lang: str) -> Dict[str, Any]:
    waiting = (datetime.now(case.created_at.tzinfo) - case.created_at).total_seconds() / 60
    return {
        "id": case.id,
        "customer": case.who,
        "conversation": case.conversation_id,
        "status": case.status,
        "reason": case.reason,
        "badge": "after hours" if case.after_hours else BADGES[case.reason],
        "reason_label": texts.label("reason_" + case.reason, lang),
        "topic": texts.topic_name(case.topic, lang),
        "team": case.team,
        "agent": case.agent,
        "urgent": case.urgent,
        "after_hours": case.after_hours,
        "channel": case.channel,
        "waiting_minutes": int(waiting),
        "created_at": case.created_at.isoformat(),
        "judgment": case.judgment,
        "judged_topic": case.judged_topic,
        "rating": case.rating,
    }


def _date(value: Optional[str], default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _charts(report: reports.Report, lang: str) -> Dict[str, Any]:
    """Bars for the page's inline SVG (no chart library, no CDN)."""
    reasons = [(texts.label("reason_" + r, lang), n) for r, n in sorted(report.reasons.items())]
    teams = [(team, group.handoffs) for team, group in report.by_team.items()]
    agents = [(name, group.first_reply.median or 0) for name, group in report.by_agent.items()]
    # The trend: the share of judged handoffs that needed a person, day by day.
    precision = [(d["day"][5:], round(100 * d["precision"])) for d in report.by_day if d["precision"] is not None]
    return {
        "reasons": _bars(reasons),
        "teams": _bars(teams),
        "agents": _bars(agents, unit=" min"),
        "precision": _bars(precision, unit="%"),
    }


def _bars(items, unit: str = ""):
    top = max([value for _, value in items] or [0]) or 1
    return [
        {"label": label, "value": value, "unit": unit, "width": round(100 * value / top, 1)} for label, value in items
    ]


def _keep_choice(store, subject: str, choice: Dict[str, Any], by: str) -> bool:
    """Keeps a review page's choice with what it is about; False if there is no such thing."""
    kind, _, number = subject.partition("-")
    if not number.isdigit():
        return False
    if kind == "case" and store.get(int(number)):
        store.record(int(number), CaseEventKind.REVIEWED, by, choice)
        return True
    return kind == "rating" and ratings.BotRatings(store.engine).choose(int(number), choice, by)


def _review_json(item: review.Reviewed, lang: str) -> Dict[str, Any]:
    taught = review.lesson(item)
    asked = len(item.turns) + item.asked
    case = item.case
    return {
        "subject": item.subject,
        "case": case and case.id,
        "customer": case.who if case else item.rating.conversation_id,
        "reason": item.reason,
        "reason_label": texts.label("reason_" + item.reason, lang),
        "because": item.because,
        "judged_by": case and case.judged_by,
        "judged_topic": case and case.judged_topic and texts.topic_name(case.judged_topic, lang),
        "turns": [
            {
                "text": t.text,
                "intent": t.intent,
                "confidence": t.confidence,
                "actions": list(t.actions),
                "in_question": i == asked,
            }
            for i, t in enumerate(item.turns)
        ],
        "lesson": taught and {"intent": taught.intent, "example": taught.example, "story": taught.story},
        "chosen": (item.chosen or {}).get("choice"),
        "chosen_by": item.chosen_by,
        "replayable": not item.form,
    }
