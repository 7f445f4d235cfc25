"""``threadwork`` command line: dev | gateway | worker | sessions | deploy | webchat | manifest.

Operator mistakes (settings, rule files, ports, an unreachable Temporal) end the command
with one ``error:`` line and exit code 2; ``--debug`` or ``THREADWORK_LOG_LEVEL=debug``
adds the traceback. Other exceptions are bugs and keep theirs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Coroutine
from typing import Any, NoReturn

from bots import event_loop
from bots.config import get_settings
from bots.errors import EXIT_CONFIG, one_line


def _run(coro: Coroutine[Any, Any, int | None]) -> int:
    try:
        loop = get_settings().event_loop
    except BaseException:
        coro.close()  # never started: no "was never awaited" warning under the settings error
        raise
    try:
        return event_loop.run(coro, loop) or 0
    except KeyboardInterrupt:
        return 130


async def _serve(worker: bool, gateway: bool, dev: bool) -> int:
    from bots import preflight
    from bots.runner import serve

    settings = get_settings()
    preflight.check(settings, worker=worker, gateway=gateway, dev=dev)
    await serve(settings, worker=worker, gateway=gateway, dev=dev)
    return 0


async def _sessions(args: argparse.Namespace) -> int:
    from bots import sessions

    settings = get_settings()
    try:
        client = await sessions.client_for(settings)
    except RuntimeError as err:
        hint = (
            ""
            if settings.temporal_address
            else (
                f"; no `threadwork dev` runs from {settings.data_dir} (start it in this folder, or set TEMPORAL_ADDRESS)"
            )
        )
        print(f"error: cannot reach Temporal at {sessions.target_for(settings)}: {err}{hint}", file=sys.stderr)
        return 2
    if args.action == "list":
        rows = await sessions.list_sessions(client, include_closed=args.all)
        for row in rows:
            print(f"{row['session_id']}\t{row['status']}\t{row['started_at']}")
        return 0
    if args.action == "show":
        state = await sessions.show(client, args.session_id)
        if state is None:
            print(f"no session {args.session_id}", file=sys.stderr)
            return 1
        print(json.dumps(state, indent=2, default=str))
        return 0
    if args.action == "end":
        ok = await sessions.end(client, args.session_id)
        if not ok:
            print(f"no running session {args.session_id}", file=sys.stderr)
            return 1
        print(f"ended {args.session_id}")
        return 0
    return 2


async def _deploy(args: argparse.Namespace) -> int:
    from bots import deployment, sessions

    settings = get_settings()
    name = settings.deployment_name
    if not name:
        print("error: Worker Versioning is off (THREADWORK_DEPLOYMENT_NAME is empty)", file=sys.stderr)
        return 2
    try:
        client = await sessions.client_for(settings)
    except RuntimeError as err:
        print(f"error: cannot reach Temporal at {sessions.target_for(settings)}: {err}", file=sys.stderr)
        return 2
    if args.action == "status":
        print(deployment.format_status(name, await deployment.status(client, name, settings.task_queue)))
        return 0
    if args.move_idle and args.ramp is not None:
        print("error: --move-idle moves sessions to the current build; it does not go with --ramp", file=sys.stderr)
        return 2
    print(await deployment.promote(client, name, args.build, args.ramp))
    if args.move_idle:
        woken = await deployment.move_idle(client, name, settings.task_queue, args.build)
        print(f"woke {woken} session(s) on other builds: each moves to {args.build} when no turn is running")
    return 0


async def _webchat(args: argparse.Namespace) -> int:
    """``threadwork webchat invite|revoke NAME``, on the store the gateways share."""
    from adapters.storage.backends import Storage
    from adapters.webchat.invites import InviteError, Invites
    from adapters.webchat.revocations import REFRESH_SECONDS

    settings = get_settings()
    storage = Storage.from_settings(settings)
    store = storage.webchat_store()
    try:
        await store.open()
        if args.action == "revoke":
            links = await Invites(store).revoke(args.name)
        else:
            invite = await Invites(store).create(args.name, args.hours * 3600)
    except InviteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        await store.close()
        await storage.close()
    if args.action == "revoke":
        print(
            f"revoked {args.name}: {links} unused sign-in link(s) deleted; browsers signed in as {args.name} "
            f"are guests within {REFRESH_SECONDS:.0f} s (a new invite signs in again)"
        )
        return 0
    if settings.webchat_auth == "proxy":
        print("note: THREADWORK_WEBCHAT_AUTH=proxy: the gateway ignores sign-in links", file=sys.stderr)
    print(invite.link(args.url or f"http://{settings.host}:{settings.port}"))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="threadwork", description="Durable chat sessions on Temporal.")
    p.add_argument(
        "--debug", action="store_true", help="show tracebacks of startup errors (or THREADWORK_LOG_LEVEL=debug)"
    )
    # Also accepted after the command (`threadwork dev --debug`); SUPPRESS keeps the top-level value otherwise.
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of startup errors"
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", parents=[debug], help="embedded Temporal dev server + worker + gateway in one process")
    sub.add_parser("worker", parents=[debug], help="run the Temporal worker (production shape; needs TEMPORAL_ADDRESS)")
    sub.add_parser("gateway", parents=[debug], help="run the HTTP gateway (production shape; needs TEMPORAL_ADDRESS)")
    s = sub.add_parser("sessions", help="inspect and end chat sessions")
    ssub = s.add_subparsers(dest="action", required=True)
    ls = ssub.add_parser("list", help="running sessions")
    ls.add_argument("--all", action="store_true", help="include closed sessions")
    show = ssub.add_parser("show", help="print a session's state as JSON")
    show.add_argument("session_id")
    end = ssub.add_parser("end", help="end a session gracefully")
    end.add_argument("session_id")
    d = sub.add_parser("deploy", parents=[debug], help="Worker Versioning: builds, sessions on each, promote a build")
    dsub = d.add_subparsers(dest="action", required=True)
    dsub.add_parser("status", help="the deployment's builds, which is current or ramping, and running sessions on each")
    pr = dsub.add_parser(
        "promote", help="make BUILD current for new sessions (running ones move at their next continue-as-new)"
    )
    pr.add_argument("build", metavar="BUILD")
    pr.add_argument("--ramp", type=float, metavar="PERCENT", help="send only PERCENT of new sessions to BUILD (0-100)")
    pr.add_argument(
        "--move-idle",
        action="store_true",
        help="also move running sessions of other builds to BUILD now, not at their next message",
    )
    w = sub.add_parser("webchat", help="web chat members")
    wsub = w.add_subparsers(dest="action", required=True)
    inv = wsub.add_parser("invite", help="print a one-time sign-in link that makes NAME a member")
    inv.add_argument("name", metavar="NAME")
    inv.add_argument("--url", help="the gateway's public base URL (default: http://THREADWORK_HOST:THREADWORK_PORT)")
    inv.add_argument("--hours", type=float, default=24.0, help="how long the link is valid (default 24)")
    rev = wsub.add_parser("revoke", help="NAME is no member any more: unused links stop working, browsers are guests")
    rev.add_argument("name", metavar="NAME")
    m = sub.add_parser("manifest", help="print or build the Slack / Teams app manifests")
    msub = m.add_subparsers(dest="platform", required=True)
    ms = msub.add_parser("slack", help="print the Slack app manifest (YAML)")
    ms.add_argument("--url", help="public base URL of the gateway, e.g. https://bot.example.com")
    ms.add_argument("--socket-mode", action="store_true", help="the Socket Mode variant (no request URLs)")
    ms.add_argument(
        "--agent",
        action="store_true",
        help="declare the app an agent (features.agent_view, agent sessions, Stop button)",
    )
    mt = msub.add_parser("teams", help="build the Teams app package (zip)")
    mt.add_argument("--app-id", required=True, help="the bot's Microsoft App ID")
    mt.add_argument("--domain", required=True, help="the gateway's host name")
    mt.add_argument("--out", required=True, help="where to write the .zip")
    return p


def _manifest(args: argparse.Namespace) -> int:
    if args.platform == "slack":
        from adapters.slack.manifest import render_manifest

        if not args.socket_mode and not args.url:
            print("error: give --url URL, or --socket-mode", file=sys.stderr)
            return 2
        try:
            print(render_manifest(url=args.url, socket_mode=args.socket_mode, agent=args.agent), end="")
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    from adapters.teams.manifest import build_package

    try:
        path = build_package(app_id=args.app_id, domain=args.domain, out=args.out)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def _log_level() -> int:
    """THREADWORK_LOG_LEVEL (debug | info | warning | error), default info; read before the settings,
    which may be the thing that is broken."""
    name = os.environ.get("THREADWORK_LOG_LEVEL", "info").strip().upper()
    level = logging.getLevelName(name)
    return level if isinstance(level, int) else logging.INFO


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    level = _log_level()
    debug = args.debug or level <= logging.DEBUG
    logging.basicConfig(
        level=logging.DEBUG if args.debug else level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("temporalio").setLevel(logging.DEBUG if debug else logging.WARNING)
    try:
        return _command(args)
    except Exception as err:
        line = one_line(err)
        if line is None:
            raise  # a bug: the traceback is the report
        if debug:
            traceback.print_exception(err)
        print(f"error: {line}", file=sys.stderr, flush=True)
        return EXIT_CONFIG


def _command(args: argparse.Namespace) -> int:
    if args.command == "dev":
        return _run(_serve(worker=True, gateway=True, dev=True))
    if args.command == "worker":
        return _run(_serve(worker=True, gateway=False, dev=False))
    if args.command == "gateway":
        return _run(_serve(worker=False, gateway=True, dev=False))
    if args.command == "sessions":
        return _run(_sessions(args))
    if args.command == "webchat":
        return _run(_webchat(args))
    if args.command == "deploy":
        return _run(_deploy(args))
    if args.command == "manifest":
        return _manifest(args)
    return 2


#: 128 + SIGPIPE, what a Unix tool killed by a closed pipe exits with.
EXIT_BROKEN_PIPE = 141


def run() -> NoReturn:
    """Process entry point (console script, ``python -m bots.cli``).

    Exits without interpreter finalization: the Temporal client's Rust threads can touch a
    finalizing interpreter and abort it (temporalio/sdk-python#300), which turned about one
    in fifteen successful ``threadwork sessions show`` runs into SIGABRT here. ``main`` stays
    a normal function for in-process callers.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`threadwork sessions list | head -1`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
