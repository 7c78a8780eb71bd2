"""The ``cts`` command: run the stack or one of its parts, manage tokens and the schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from server.settings import Settings

if TYPE_CHECKING:
    from server.monitoring.startup import StartupReport


def _configure_logging(settings: Settings) -> None:
    from server.monitoring.logs.console import configure_console

    configure_console(settings.log_level, settings.log_format)


def _up(settings: Settings, _args: argparse.Namespace) -> int:
    from server.stack.up import run_stack

    return run_stack(settings)


def _serve(settings: Settings, _args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from server.app import serve
    from server.monitoring.storage_checks import describe, reason
    from server.vault.master_key import MasterKeyError

    try:
        asyncio.run(serve(settings))
    except MasterKeyError as exc:
        print(f"error: the server does not start: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        where = describe(settings.resolved_database_url)
        print(
            f"error: the server does not start: {where} does not answer: {reason(exc)}",
            file=sys.stderr,
        )
        return 1
    return 0


def _envoy(settings: Settings, args: argparse.Namespace) -> int:
    import os

    import yaml

    from server.stack.envoy import envoy_command, render_config, write_config

    if args.print_config:
        print(yaml.safe_dump(render_config(settings), sort_keys=False))
        return 0
    command = envoy_command(settings, write_config(settings), log_level="info")
    os.execv(command[0], command)  # noqa: S606 - replaces this process with Envoy


def _simulator(settings: Settings, _args: argparse.Namespace) -> int:
    from server.simulator.run import serve_simulator

    asyncio.run(serve_simulator(settings))
    return 0


def _cert(settings: Settings, args: argparse.Namespace) -> int:
    from server.tls import TlsError, self_signed

    hosts = [] if settings.host in ("0.0.0.0", "::") else [settings.host]  # noqa: S104
    try:
        files = self_signed(settings.resolved_data_dir, hosts, force=args.force)
    except TlsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(
        f"self-signed certificate {files.cert}\nprivate key (0600)      {files.key}\n"
        "valid for localhost, 127.0.0.1, ::1"
        + "".join(f", {host}" for host in hosts)
        + ". To serve TLS, set:\n"
        f"export CTS_TLS_CERT={files.cert}\nexport CTS_TLS_KEY={files.key}"
    )
    return 0


def _webui(settings: Settings, _args: argparse.Namespace) -> int:
    from webui.main import run

    run(settings)
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from server.access.audit import AuditTrail, Call
    from server.access.roles import Role
    from server.access.tokens import create_token, list_tokens, parse_duration, revoke_token
    from server.errors import DomainError
    from server.storage.database import Database
    from server.storage.migrate import upgrade

    db = Database(
        settings.resolved_database_url,
        threads=1,
        connect_timeout=settings.database_connect_timeout_seconds,
    )
    who = f"cli:{getpass.getuser()}"
    try:
        upgrade(db.engine)
        if args.token_command == "create":
            name = args.name_option or args.name
            if not name:
                print(
                    "error: name the token: cts token create --name NAME --role ROLE",
                    file=sys.stderr,
                )
                return 2
            role = Role.parse(args.role)
            expires_in = parse_duration(args.expires_in) if args.expires_in else None
            token, info = db.write_now(lambda s: create_token(s, name, role, expires_in=expires_in))
            AuditTrail(db).record_now(
                who, Call("cts token create", "local", str(info.id), ("name", "role"))
            )
            expiry = f", expires {info.expires_at:%Y-%m-%d %H:%M} UTC" if info.expires_at else ""
            print(
                f"token '{info.name}' ({info.role.word}{expiry}) created; "
                f"it is shown only now:\n{token}"
            )
        elif args.token_command == "list":
            for info in db.read_now(list_tokens):
                state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
                expiry = f"  expires {info.expires_at:%Y-%m-%d %H:%M}" if info.expires_at else ""
                print(
                    f"{info.name:<30} {info.role.word:<8} {info.prefix}…  "
                    f"created {info.created_at:%Y-%m-%d %H:%M}  {state}{expiry}"
                )
        else:
            info = db.write_now(lambda s: revoke_token(s, args.name))
            AuditTrail(db).record_now(who, Call("cts token revoke", "local", str(info.id)))
            print(f"token '{info.name}' revoked")
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from server.storage.database import Database
    from server.storage.migrate import new_revision, upgrade

    db = Database(
        settings.resolved_database_url,
        threads=1,
        connect_timeout=settings.database_connect_timeout_seconds,
    )
    try:
        if args.db_command == "upgrade":
            upgrade(db.engine)
            print("schema is up to date")
        else:
            new_revision(db.engine, args.message)
    finally:
        db.close()
    return 0


def _vault(settings: Settings, args: argparse.Namespace) -> int:
    import signal

    from sqlalchemy.exc import OperationalError

    from server.monitoring.storage_checks import describe, reason
    from server.storage.database import Database
    from server.vault.master_key import MasterKeyError
    from server.vault.rotation import rotate

    def checkpoint(name: str) -> None:
        if name == args.test_stop_at:  # tests kill the rotation here (SIGSTOP, then SIGKILL)
            os.kill(os.getpid(), signal.SIGSTOP)

    db = Database(
        settings.resolved_database_url,
        threads=1,
        connect_timeout=settings.database_connect_timeout_seconds,
    )
    try:
        done = rotate(
            db,
            settings.resolved_data_dir,
            settings.master_key,
            new_key_file=args.new_key_file,
            checkpoint=checkpoint,
        )
    except MasterKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        where = describe(settings.resolved_database_url)
        print(f"error: {where} does not answer: {reason(exc)}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(done.report())
    return 0


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from server.monitoring.check import CheckStatus
    from server.monitoring.startup import StartupChecks
    from server.monitoring.storage_checks import database_for_checks

    # In process, against the configured data folder and database: the runtime-only checks
    # (clock offsets, engines) are skipped; a running server gives them to StartupChecks.
    database = database_for_checks(settings)
    try:
        report = asyncio.run(StartupChecks(settings, database).run())
    finally:
        if database is not None:
            database.close()
    print(_report_json(report) if args.json else _report_table(report))
    return 1 if report.status is CheckStatus.FAIL else 0


def _report_json(report: StartupReport) -> str:
    import json

    return json.dumps(
        {
            "status": report.status.value,
            "checked_at": report.checked_at.isoformat().replace("+00:00", "Z"),
            "duration_ms": report.duration_ms,
            "checks": [
                {
                    "name": c.name,
                    "status": c.status.value,
                    "detail": c.detail,
                    "duration_ms": c.duration_ms,
                }
                for c in report.checks
            ],
            "skipped": [{"name": s.name, "reason": s.reason} for s in report.skipped],
        },
        indent=2,
        ensure_ascii=False,
    )


def _report_table(report: StartupReport) -> str:
    import shutil
    import textwrap

    width = max(shutil.get_terminal_size((120, 24)).columns, 80)
    indent = " " * 32

    def row(status: str, name: str, took: str, detail: str) -> str:
        head = f"{status:<6}  {name:<13}  {took:>7}  "
        return textwrap.fill(
            detail,
            width,
            initial_indent=head,
            subsequent_indent=indent,
            break_long_words=False,  # paths stay whole
            break_on_hyphens=False,
        )

    lines = [f"{'STATUS':<6}  {'CHECK':<13}  {'TIME':>7}  DETAIL"]
    lines += [
        row(c.status.value.upper(), c.name, f"{c.duration_ms} ms", c.detail) for c in report.checks
    ]
    lines += [row("SKIP", s.name, "", s.reason) for s in report.skipped]
    counts = ", ".join(
        f"{sum(1 for c in report.checks if c.status is status)} {status.value}"
        for status in type(report.status)
    )
    lines.append(f"\n{report.status.value.upper()} ({counts}) in {report.duration_ms} ms")
    return "\n".join(lines)


# Commands that serve TLS when CTS_TLS_CERT / CTS_TLS_KEY are set: a bad pair stops them at once.
TLS_COMMANDS = ("up", "envoy", "webui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cts",
        description="CTS: a control plane for crypto trading across many exchange accounts. "
        "Configuration comes from CTS_* environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run server, Envoy and dashboard together").set_defaults(run=_up)
    commands.add_parser("serve", help="run the gRPC server only").set_defaults(run=_serve)
    envoy = commands.add_parser("envoy", help="run Envoy (HTTP/JSON and gRPC front) only")
    envoy.add_argument("--print-config", action="store_true", help="print the rendered config")
    envoy.set_defaults(run=_envoy)
    commands.add_parser("webui", help="run the dashboard only").set_defaults(run=_webui)
    commands.add_parser(
        "simulator", help="run the exchange simulator (Binance, Bybit, OKX dialects) only"
    ).set_defaults(run=_simulator)

    verify = commands.add_parser(
        "verify",
        help="check this installation (storage, schema, master key, data folder, disk, Envoy, "
        "simulator); exit status 1 when a check fails",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(run=_verify)

    cert = commands.add_parser("cert", help="TLS certificates")
    cert_commands = cert.add_subparsers(dest="cert_command", required=True)
    self_signed = cert_commands.add_parser(
        "self-signed",
        help="write a key and a self-signed certificate for localhost into the data folder "
        "(mode 0600) and print the CTS_TLS_CERT / CTS_TLS_KEY lines",
    )
    self_signed.add_argument("--force", action="store_true", help="replace existing files")
    cert.set_defaults(run=_cert)

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token (printed once)")
    create.add_argument("name", nargs="?", help="the token's name (or --name)")
    create.add_argument("--name", dest="name_option", help="the token's name")
    create.add_argument(
        "--role",
        required=True,
        choices=("viewer", "operator", "admin"),
        help="viewer: read and watch; operator: also tests, engines, trading settings; "
        "admin: everything",
    )
    create.add_argument("--expires-in", help="the token stops working after 30d, 12h, 45m, 90s")
    token_commands.add_parser("list", help="list tokens (never their values)")
    revoke = token_commands.add_parser("revoke", help="revoke a token")
    revoke.add_argument("name")
    token.set_defaults(run=_token)

    vault = commands.add_parser("vault", help="the master key that encrypts credentials")
    vault_commands = vault.add_subparsers(dest="vault_command", required=True)
    rotate = vault_commands.add_parser(
        "rotate",
        help="re-encrypt every stored credential under a new master key (servers stopped); "
        "never prints a key",
    )
    rotate.add_argument(
        "--new-key-file",
        type=Path,
        metavar="FILE",
        help="with CTS_MASTER_KEY only: write the new key to FILE (mode 0600, must not exist); "
        "set CTS_MASTER_KEY to it afterwards",
    )
    rotate.add_argument("--test-stop-at", help=argparse.SUPPRESS)
    vault.set_defaults(run=_vault)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="migrate the schema to the latest revision")
    revision = db_commands.add_parser("revision", help="autogenerate a migration (developers)")
    revision.add_argument("-m", "--message", required=True)
    db.set_defaults(run=_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Everything CTS writes (database, keys, tokens, logs, the dashboard's storage) is its
    # owner's only, whatever the shell's umask.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    settings = Settings()
    _configure_logging(settings)
    if args.command in TLS_COMMANDS:
        from server.tls import TlsError, tls_files

        try:
            tls_files(settings)
        except TlsError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
    return int(args.run(settings, args))


if __name__ == "__main__":
    sys.exit(main())
