"""Command line: ``python3 -m fma COMMAND ADDRESS ...`` calls an fma server.

Commands:

- ``health ADDRESS [--service S]``: prints the server's health on one line, e.g.
  ``SERVING component=fma-demo version=0.1.0 uptime_ms=12 services=fma.v1.Demo,fma.v1.Health``;
  exits 0 when the status is SERVING and 1 otherwise.
- ``echo ADDRESS TEXT``: calls ``fma.v1.Demo/Echo`` and prints the text it answers.
- ``count ADDRESS N``: calls ``fma.v1.Demo/Count`` and prints each index on its own line.

Every command exits 2 when the call fails (the status goes to stderr, e.g.
``fma: UNAUTHENTICATED: invalid bearer token``) or when the command line is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from fma.client import Client, RPCError
from fma.v1 import demo_pb2, health_pb2

EXIT_OK = 0
EXIT_NOT_SERVING = 1
EXIT_ERROR = 2

_EPILOG = """\
addresses:
  unix:/run/fma/launcher.sock    a Unix socket (unix://PATH works too); no token needed
  tcp://127.0.0.1:7070           TCP; an IPv6 host goes in brackets: tcp://[::1]:7070

authentication (TCP):
  Calls on TCP carry a bearer token: from --token-file FILE or --token TOKEN, else from
  the environment variable FMA_TOKEN. (--token shows the token to other users of the
  machine in the process list: prefer the other two.)

exit status:
  0  success (health: the server is SERVING)
  1  health only: the server answered but is not SERVING
  2  the call failed ("fma: CODE: message" on stderr), or the command line is wrong

examples:
  python3 -m fma health unix:/tmp/fma-demo.sock
  FMA_TOKEN=s3cret python3 -m fma health tcp://127.0.0.1:7070 --service fma.v1.Demo
  python3 -m fma echo tcp://127.0.0.1:7070 --token-file token 'hello there'
  python3 -m fma count unix:/tmp/fma-demo.sock 5 --interval-ms 100
"""


class UsageError(Exception):
    """A command-line value that is wrong: an address that does not parse, an unreadable token
    file."""


def _connection_options(default_timeout: float | None) -> argparse.ArgumentParser:
    """The options every command shares: how to reach and authenticate to the server."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("address", metavar="ADDRESS",
                        help="the server: unix:PATH or tcp://HOST:PORT")
    auth = parent.add_mutually_exclusive_group()
    auth.add_argument("--token", metavar="TOKEN",
                      help="bearer token for TCP calls (default: $FMA_TOKEN)")
    auth.add_argument("--token-file", metavar="FILE",
                      help="read the bearer token from FILE (surrounding whitespace ignored)")
    parent.add_argument("--timeout", metavar="SECONDS", type=_positive_float,
                        default=default_timeout,
                        help="the call's deadline in seconds (default: "
                             + ("none" if default_timeout is None else f"{default_timeout:g}")
                             + ")")
    parent.add_argument("--connect-timeout", metavar="SECONDS", type=_positive_float,
                        default=5.0, help="how long to try to connect (default: %(default)g)")
    return parent


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _uint32(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value <= 0xFFFF_FFFF:
        raise argparse.ArgumentTypeError(f"must be from 0 to 4294967295: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``python3 -m fma``."""
    parser = argparse.ArgumentParser(
        prog="python3 -m fma",
        description="Call fma services (fast model actuation) over Unix or TCP sockets.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    health = commands.add_parser(
        "health", parents=[_connection_options(5.0)], help="ask whether a server is serving",
        description="Calls fma.v1.Health/Check and prints the status on one line, e.g.\n"
                    "  SERVING component=fma-demo version=0.1.0 uptime_ms=12 "
                    "services=fma.v1.Demo,fma.v1.Health\n"
                    "Exits 0 when SERVING, 1 otherwise, 2 when the call fails.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    health.add_argument("--service", metavar="S", default="",
                        help="ask about one service, e.g. fma.v1.Demo (default: the server)")
    health.set_defaults(run=_health)

    echo = commands.add_parser(
        "echo", parents=[_connection_options(5.0)],
        help="call fma.v1.Demo/Echo and print the answer",
        description="Calls fma.v1.Demo/Echo with TEXT and prints the text it answers.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    echo.add_argument("text", metavar="TEXT", help="the text to send")
    echo.add_argument("--delay-ms", metavar="MS", type=_uint32, default=0,
                      help="ask the server to wait this long before answering (default: 0)")
    echo.set_defaults(run=_echo)

    count = commands.add_parser(
        "count", parents=[_connection_options(None)],
        help="call fma.v1.Demo/Count and print each index",
        description="Calls fma.v1.Demo/Count, a server stream of N messages, and prints\n"
                    "each message's index (0 to N-1) on its own line as it arrives.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    count.add_argument("count", metavar="N", type=_uint32,
                       help="how many messages to ask for")
    count.add_argument("--interval-ms", metavar="MS", type=_uint32, default=0,
                       help="milliseconds between two messages (default: 0)")
    count.add_argument("--credit", metavar="K", type=_uint32, default=0,
                       help="per-call flow control: the server runs at most K messages ahead "
                            "(default: 0, no per-call limit)")
    count.set_defaults(run=_count)
    return parser


def _token(args: argparse.Namespace) -> str | None:
    """The bearer token from --token-file, --token or $FMA_TOKEN; None if there is none."""
    if args.token_file is not None:
        try:
            with open(args.token_file, encoding="utf-8") as file:
                token = file.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read the token file {args.token_file}: {error}") from None
        if not token:
            raise UsageError(f"the token file {args.token_file} is empty")
        return token
    if args.token is not None:
        return args.token
    return os.environ.get("FMA_TOKEN") or None


def _connect(args: argparse.Namespace) -> Client:
    token = _token(args)
    try:
        return Client.connect(args.address, token=token, connect_timeout=args.connect_timeout)
    except ValueError as error:  # not an fma address
        raise UsageError(str(error)) from None


def _health(args: argparse.Namespace) -> int:
    with _connect(args) as client:
        response = client.health(args.service, timeout=args.timeout)
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    print(f"{status} component={response.component} version={response.version} "
          f"uptime_ms={response.uptime_ms} services={','.join(response.services)}")
    serving = response.status == health_pb2.HealthCheckResponse.SERVING
    return EXIT_OK if serving else EXIT_NOT_SERVING


def _echo(args: argparse.Namespace) -> int:
    request = demo_pb2.EchoRequest(text=args.text, delay_ms=args.delay_ms)
    with _connect(args) as client:
        response = client.unary("fma.v1.Demo/Echo", request, demo_pb2.EchoResponse,
                                timeout=args.timeout)
    print(response.text)
    return EXIT_OK


def _count(args: argparse.Namespace) -> int:
    request = demo_pb2.CountRequest(count=args.count, interval_ms=args.interval_ms)
    with _connect(args) as client:
        with client.stream("fma.v1.Demo/Count", request, demo_pb2.CountResponse,
                           timeout=args.timeout, initial_credit=args.credit) as responses:
            for response in responses:
                print(response.index, flush=True)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except RPCError as error:
        print(f"fma: {error}", file=sys.stderr)
        return EXIT_ERROR
    except UsageError as error:
        print(f"fma: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader of our output went away (e.g. `count ... | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
