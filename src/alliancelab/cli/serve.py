"""``alliancelab serve [CASE]``: the local web app - edit a case, run it, compare, explore.

Bound to 127.0.0.1 by default. Binding to any other address requires a token (given with
--token or generated), which the printed address carries. Everything the app reads and
writes stays in the data directory (--data, default ./alliancelab-data/).
"""

from __future__ import annotations

import argparse
import ipaddress
import secrets
import sys
from pathlib import Path

from ..core.errors import AllianceLabError
from ..core.limits import WEB_DEFAULTS as WEB
from ._help import first_paragraph
from ._logging import log

DEFAULT_DATA = "alliancelab-data"
DEFAULT_PORT = 8765
KEEP_ALIVE_SECONDS = 75
#: on SIGTERM or Ctrl-C, requests still running after this long are dropped.
GRACEFUL_SHUTDOWN_SECONDS = 3


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve",
        help="the local web app: edit a case, forecast, compare shocks and levers, explore",
        description=first_paragraph(__doc__),
    )
    p.add_argument("case", nargs="?", default=None,
                   help="case to open (file in any supported format, or shipped case name; "
                   "default: none, the app opens on its list of cases)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; anything else needs a token)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--data", default=DEFAULT_DATA, metavar="DIR",
                   help=f"the app's data directory (default ./{DEFAULT_DATA}/)")
    p.add_argument("--token", default=None,
                   help="access token, at least 16 characters (default: none on loopback; "
                   "generated and printed for any other address)")
    p.add_argument("--max-upload-mb", type=float, default=WEB.max_upload_bytes / 2**20,
                   metavar="MB", help=f"largest case file or request accepted "
                   f"(default {WEB.max_upload_bytes / 2**20:g} MB)")
    p.add_argument("--max-jobs", type=int, default=WEB.max_jobs, metavar="N",
                   help=f"report runs and explorations queued or running at once "
                   f"(default {WEB.max_jobs})")
    p.add_argument("--max-draws", type=int, default=WEB.max_draws, metavar="N",
                   help=f"most draws of a report run started from the app "
                   f"(default {WEB.max_draws})")
    p.add_argument("--max-experiments", type=int, default=WEB.max_experiments,
                   metavar="N", help=f"most experiments of an exploration started from the "
                   f"app (default {WEB.max_experiments:,})")
    p.add_argument("--request-seconds", type=float, default=WEB.request_seconds,
                   metavar="S", help=f"a forecast request still working after S seconds stops "
                   f"(default {WEB.request_seconds:g}); the case limits are --limit's")
    p.set_defaults(handler=run)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def import_case(case_arg: str, data_dir: Path) -> str:
    """Read ``case_arg`` (validated as the CLI does) into the workspace; returns its name.
    A workspace copy that already exists (perhaps edited in the app) is kept."""
    from ..cases import resolve_case
    from ..formats import format_case, read_case, read_text
    from ..web.workspace import Workspace, clean_name

    path = resolve_case(case_arg)
    case = read_case(path)
    ws = Workspace(data_dir)
    name = clean_name(path.stem)
    if name in ws.case_names():
        log.warning("using the workspace copy of %r in %s (delete it to import the file "
                    "again)", name, ws.root / "cases")
        return name
    text = read_text(path) if path.suffix.lower() in (".yaml", ".yml") else format_case(case)
    ws.save(name, text)
    return name


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..web import Settings, create_app
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise AllianceLabError(
            f"the web app's dependency {exc.name} is missing: reinstall alliancelab "
            "(pip install .)") from None
    if not 0 <= args.port <= 65535:
        raise AllianceLabError(f"must be 0-65535, got {args.port}", field="--port")
    if args.max_upload_mb <= 0:
        raise AllianceLabError(f"must be > 0, got {args.max_upload_mb:g}",
                               field="--max-upload-mb")
    for flag in ("max_jobs", "max_draws", "max_experiments"):
        if getattr(args, flag) < 1:
            raise AllianceLabError(f"must be >= 1, got {getattr(args, flag)}",
                                   field="--" + flag.replace("_", "-"))
    if not args.request_seconds > 0:
        raise AllianceLabError(f"must be > 0, got {args.request_seconds:g}",
                               field="--request-seconds")
    token = args.token
    if token is not None and len(token) < 16:
        raise AllianceLabError("must be at least 16 characters", field="--token")
    if not is_loopback(args.host) and token is None:
        token = secrets.token_urlsafe(24)
    data = Path(args.data)
    initial = import_case(args.case, data) if args.case else None
    settings = Settings(data_dir=data, token=token,
                        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
                        max_jobs=args.max_jobs, max_draws=args.max_draws,
                        max_experiments=args.max_experiments,
                        request_seconds=args.request_seconds, initial_case=initial)
    app = create_app(settings)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    shown = f"[{shown}]" if ":" in shown else shown
    url = f"http://{shown}:{args.port}/" + (f"?token={token}" if token else "")
    print(f"alliancelab web app on {url}  (data: {settings.data_dir}; Ctrl-C stops)",
          file=sys.stderr, flush=True)
    # keep idle connections longer than uvicorn's 5 s: a busy page (or a loaded machine)
    # must not see a connection closed under a request it is just sending; on SIGTERM,
    # stop within seconds (the app's shutdown cancels its jobs)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    return 0
