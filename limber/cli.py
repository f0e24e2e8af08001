"""The `limber` command: Limber's own subcommands, and Django's management commands beneath.

Every failure a person can cause (a wrong argument, a bad setting, a malformed spec file)
ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from limber.config import LOG_FORMAT
from limber.errors import UserError

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(message)


def _setup() -> None:
    """Configure Django (reads the environment and the exercise library)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "limber.settings")
    import django

    django.setup()


def _library():  # type: ignore[no-untyped-def]
    _setup()
    from limber.library import get_library

    return get_library()


def _stretch(slug: str):  # type: ignore[no-untyped-def]
    library = _library()
    if slug not in library:
        raise UserError(f"no stretch {slug!r}; choose one of: {', '.join(library)}")
    return library[slug]


# --- commands ---------------------------------------------------------------------------------


def cmd_exercises(args: argparse.Namespace) -> int:
    library = _library()
    if args.json:
        print(json.dumps([s.summary_dict() for s in library.values()], indent=2))
        return 0
    rows = [("SLUG", "NAME", "POSITION", "GENTLE", "HOLD", "REPS/LEG", "VARIANTS")]
    for s in library.values():
        d = s.dose
        hold = f"{d.hold_start_s.value:g}→{d.hold_goal_s.value:g} s"
        if d.hold_start_s.value == d.hold_goal_s.value:
            hold = f"{d.hold_start_s.value:g} s"
        rows.append(
            (
                s.slug,
                s.name,
                s.position,
                str(s.gentleness),
                hold,
                f"{d.reps_per_side.value:g}",
                ", ".join(v.slug for v in s.variants),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    from limber.core import draw

    stretch = _stretch(args.slug)
    try:
        svg = draw.render(stretch, args.variant, side=args.side, pose=args.pose)
    except ValueError as e:  # an unknown variant or side, said in one line by the renderer
        raise UserError(str(e)) from None
    out = Path(args.output)
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(svg, encoding="utf-8")
        tmp.replace(out)  # never leave a half-written drawing behind
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {args.output}: {e.strerror}") from None
    print(f"wrote {out}")
    return 0


def _require_migrated() -> None:
    """Refuse to start on a database that is unreachable or behind the code, in one line."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise UserError("the database is not migrated: run `limber migrate`")


def _require_cache() -> None:
    """Refuse to start without the Redis that REDIS_URL names: every login and token needs it."""
    from limber.health import cache_problem

    problem = cache_problem()
    if problem:
        raise UserError(problem)


def _require_free_port(host: str, port: int) -> None:
    """Bind and let go, as uvicorn is about to: a taken port is said before "running", not
    after it in uvicorn's words."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # uvicorn sets it too: a port whose last connections are in TIME_WAIT is free to use.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is taken by another program: stop it, or choose "
                    f"another port with --port (or LIMBER_PORT)"
                ) from None
            raise UserError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


# uvicorn's own lines (a worker that died, a port lost after the check) in Limber's format.
UVICORN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": LOG_FORMAT}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    import uvicorn
    from django.conf import settings

    _require_migrated()
    _require_cache()
    _require_free_port(args.host, args.port)
    if args.workers > 1 and not settings.CONFIG.redis_url:
        print(
            "note: without REDIS_URL each worker keeps its own login throttles and token cache",
            file=sys.stderr,
        )
    print(f"Limber is running at http://{args.host}:{args.port}/  (Ctrl+C stops it)", flush=True)
    uvicorn.run(
        "limber.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        log_config=UVICORN_LOGGING,
        # limber.security believes X-Forwarded-* only from LIMBER_TRUSTED_PROXIES; uvicorn's
        # own handling (which trusts 127.0.0.1) would decide before it.
        proxy_headers=False,
    )
    return 0


def cmd_help(args: argparse.Namespace) -> int:
    parser = build_parser()
    own = _own_commands(parser)
    if args.topic and args.topic in own:
        parser.parse_args([args.topic, "--help"])  # prints and exits through SystemExit
    if args.topic:
        _setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["limber", "help", args.topic])
        return 0
    parser.print_help()
    _setup()
    from django.core.management import get_commands

    commands = get_commands()  # name -> the app that provides it
    ours = sorted(n for n, app in commands.items() if app.startswith("limber") and n not in own)
    django = sorted(n for n in commands if n not in own and n not in ours)
    if ours:
        print("\nLimber's management commands (limber help COMMAND for one):")
        _print_names(ours)
    print("\nDjango's commands underneath (limber help COMMAND for one):")
    _print_names(django)
    return 0


def _print_names(names: list[str]) -> None:
    line = " "
    for name in names:
        if len(line) + len(name) > 88:
            print(line)
            line = " "
        line += " " + name
    print(line)


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {value!r}")
    return int(value)


def _count(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"a number of workers from 1 to 64, not {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="limber",
        description="Gentle hamstring stretches for sciatica. Any other command is passed to "
        "Django's manage.py (for example: limber migrate).",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("exercises", help="list the stretches in the library")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=cmd_exercises)

    p = sub.add_parser("draw", help="draw a stretch as SVG")
    p.add_argument("slug")
    p.add_argument("--variant")
    p.add_argument("--side", default="right")
    p.add_argument("--pose", choices=["start", "end", "animated"], default="end")
    p.add_argument("-o", "--output", required=True, metavar="FILE.svg")
    p.set_defaults(func=cmd_draw)

    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--host", default=os.environ.get("LIMBER_HOST", "127.0.0.1"))
    p.add_argument("--port", type=_port, default=os.environ.get("LIMBER_PORT", "8000"))
    p.add_argument(
        "--workers", type=_count, default=os.environ.get("LIMBER_WORKERS", "1"),
        help="server processes (one per core suits PostgreSQL; SQLite is fine with one)",
    )  # fmt: skip
    p.set_defaults(func=cmd_serve)

    for register in _plugins():
        register(sub)

    p = sub.add_parser("help", help="this list, or the help of one command")
    p.add_argument("topic", nargs="?", metavar="COMMAND")
    p.set_defaults(func=cmd_help)
    return parser


def _plugins() -> list[Callable[[argparse._SubParsersAction], None]]:  # type: ignore[type-arg]
    """Subcommands that live beside their feature (each module imports its heavy parts lazily)."""
    found = []
    for module in ("limber.vision.cli", "limber.accounts.cli"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if not (e.name and (module + ".").startswith(e.name + ".")):
                raise  # the feature is there but something it imports is not: a real bug
            continue
        found.append(mod.register)
    return found


def _own_commands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def _database_problem(e: Exception) -> str | None:
    """One line for a database that is not there or not set up, None for anything else."""
    from django.db import utils

    if not isinstance(e, utils.OperationalError | utils.ProgrammingError):
        return None
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if "no such table" in text or (
        isinstance(e, utils.ProgrammingError) and "does not exist" in text
    ):
        return "the database is not set up yet: run `limber migrate`"
    from django.db import connection

    where = connection.settings_dict.get("HOST") or connection.settings_dict.get("NAME")
    port = connection.settings_dict.get("PORT")
    where = f"{where}:{port}" if port else str(where)
    return f"cannot use the database at {where} (DATABASE_URL): {text}"


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        if args_list and args_list[0] not in _own_commands(parser) and args_list[0][:1] != "-":
            _setup()
            from django.core.management import execute_from_command_line

            execute_from_command_line(["limber", *args_list])
            return 0
        args = parser.parse_args(args_list)
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        return int(args.func(args))
    except UserError as e:
        print(f"limber: error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        # SpecError (a malformed exercise file) and friends: already one readable line.
        from limber.core.spec import SpecError

        if not isinstance(e, SpecError):
            raise
        print(f"limber: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        message = _database_problem(e)
        if message is None:
            raise
        print(f"limber: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`limber exercises --json | head`): stop quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
