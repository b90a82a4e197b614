"""``grader review``: the TAs' web app over a batch's reports (Starlette, served by uvicorn).

Every page is rendered from the store on each request (``reports.render_page``), so what a TA
sees includes every decision stored so far, by anyone. A pair page carries a plain HTML form
(no script needed): the decision is stored on top of the version the page showed, so when two
TAs decide the same pair the later one is refused with a message naming who decided and when
(:class:`grader.decisions.DecisionConflict`), and sees their decision.

Safety: it binds 127.0.0.1 unless ``--host`` is given, and then every request needs the token
(``?token=`` once, then a ``SameSite=Strict`` cookie). Requests must name an expected Host
(no DNS rebinding), and every form carries a per-process CSRF value, so another web site open
in the TA's browser cannot post a decision. Pages keep the reports' Content-Security-Policy:
nothing is fetched from anywhere.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from grader.decisions import DecisionConflict, decide, pair_key, refresh_grades_csv
from grader.errors import GraderError
from grader.store import Store

__all__ = ["make_app", "serve", "TOKEN_ENV", "LOCAL_HOSTS"]

#: the environment variable that supplies the token (else a random one is printed once)
TOKEN_ENV = "GRADER_REVIEW_TOKEN"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
_TOKEN_COOKIE = "gradebox_review_token"
_REVIEWER_COOKIE = "gradebox_reviewer"
#: a form body larger than this is refused (a note is a few lines)
MAX_FORM_BYTES = 64 * 1024


def make_app(out: Path, *, token: str | None = None,
             allowed_hosts: list[str] | tuple[str, ...] = LOCAL_HOSTS) -> Starlette:
    """The review app for the batch in ``out`` (the folder holding ``grading.db``).

    Parameters
    ----------
    out : Path
        The batch folder.
    token : str, optional
        When given, every request must carry it (query ``token=`` once, then a cookie).
    allowed_hosts : sequence of str
        Host header values accepted (``"*"`` for any, only sensible with a token).
    """
    out = Path(out)
    db = out / "grading.db"
    csrf = secrets.token_urlsafe(24)

    def page(request: Request, rel: str, *, message: str = "", status: int = 200) -> Response:
        from reports import render_page

        with Store(db) as store:
            snapshot = store.snapshot()
            history = _history_for(store, snapshot, rel)
        review = {"action": "/decide", "csrf": csrf, "message": message, "history": history,
                  "reviewer": request.cookies.get(_REVIEWER_COOKIE, "")}
        html = render_page(out, snapshot, rel, review=review)
        if html is None and message:
            # a decision refused for a pair no longer in the batch (a submission removed
            # and the batch re-run while the page was open): the reason, not a bare 404
            return PlainTextResponse(message, status_code=status)
        if html is None:
            return PlainTextResponse(f"no page {rel} in this batch", status_code=404)
        return HTMLResponse(html, status_code=status)

    async def reports_page(request: Request) -> Response:
        return page(request, request.path_params["rel"])

    async def home(request: Request) -> Response:
        return RedirectResponse("/reports/similarity.html", status_code=303)

    async def post_decision(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return PlainTextResponse("the form is too large", status_code=413)
        form = {k: v for k, v in parse_qs(body.decode("utf-8", "replace"),
                                          keep_blank_values=True).items()}
        one = lambda k: (form.get(k) or [""])[0]  # noqa: E731
        if not secrets.compare_digest(one("csrf"), csrf):
            return PlainTextResponse("this form is out of date (the review app was restarted):"
                                     " reload the page and decide again", status_code=403)
        a, b, kind = one("a"), one("b"), one("kind") or "peer"
        from reports._load import pair_page

        rel = pair_page(a, b)
        version = one("version")
        try:
            with Store(db) as store:
                decide(store, a, b, kind, state=one("state"), note=one("note"),
                       reviewer=one("reviewer"), named=form.get("named") or [],
                       expected_version=int(version) if version.isdigit() else 0)
                refresh_grades_csv(out, store)
        except DecisionConflict as exc:
            return page(request, rel, message=exc.render(), status=409)
        except GraderError as exc:
            return page(request, rel, message=exc.render(), status=400)
        response = RedirectResponse(f"/reports/{quote(rel)}", status_code=303)
        response.set_cookie(_REVIEWER_COOKIE, one("reviewer").strip()[:100], httponly=True,
                            samesite="strict", max_age=30 * 24 * 3600)
        return response

    routes = [Route("/", home), Route("/reports/{rel:path}", reports_page),
              Route("/decide", post_decision, methods=["POST"])]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))]
    app = Starlette(routes=routes, middleware=middleware)
    if token:
        app.add_middleware(_TokenGate, token=token)
    return app


def _history_for(store: Store, snapshot: dict, rel: str) -> list[dict]:
    """The decision history of the pair whose page ``rel`` is (empty for other pages)."""
    if not rel.startswith("pairs/"):
        return []
    from reports._load import pair_page

    for p in snapshot["pairs"]:
        if pair_page(p["a"], p["b"]) == rel:
            ref = pair_key(p["a"], p["b"], p.get("kind"))
            return store.decision_history(ref.lo, ref.hi, ref.kind)
    return []


class _TokenGate:
    """Every request needs the token: ``?token=`` (then set as a cookie) or the cookie."""

    def __init__(self, app: Callable, token: str):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        given = request.query_params.get("token")
        if given is not None and secrets.compare_digest(given, self.token):
            rest = urlencode([(k, v) for k, v in request.query_params.multi_items()
                              if k != "token"])
            response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""),
                                        status_code=303)
            response.set_cookie(_TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        cookie = request.cookies.get(_TOKEN_COOKIE, "")
        if not secrets.compare_digest(cookie, self.token):
            response = PlainTextResponse(
                "this review app needs its token: open the URL 'grader review' printed "
                f"(it ends in ?token=...), or ask whoever started it; the token is also read "
                f"from ${TOKEN_ENV}", status_code=401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def serve(out: Path, *, host: str | None = None, port: int = 8765,
          token: str | None = None, say: Callable[[str], None] = print) -> None:
    """Serve the review app until interrupted; prints its URL on one line first.

    ``host`` None binds 127.0.0.1 without a token; any other host requires ``token``.
    """
    import uvicorn

    bind = host or "127.0.0.1"
    if host is not None and not token:
        raise GraderError("--host needs a token", hint=f"set ${TOKEN_ENV} or let 'grader "
                                                        "review' make one")
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bind, port))
    except OSError as exc:
        sock.close()
        raise GraderError(f"cannot listen on {bind}:{port}: {exc.strerror}",
                          hint="pick another --port, or --port 0 for any free one") from None
    # Listening before the address is printed: a browser (or a test) that opens it at once
    # waits in the backlog until the server accepts, instead of being refused.
    sock.listen(128)
    port = sock.getsockname()[1]
    hosts = list(LOCAL_HOSTS) if host is None else ["*"] if bind in ("0.0.0.0", "::") else [
        bind, *LOCAL_HOSTS]
    app = make_app(out, token=token if host is not None else None, allowed_hosts=hosts)
    shown = "127.0.0.1" if bind in ("0.0.0.0", "::") else bind
    shown = f"[{shown}]" if ":" in shown else shown
    query = f"?token={token}" if host is not None else ""
    say(f"http://{shown}:{port}/reports/similarity.html{query}")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
