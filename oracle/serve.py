"""Starts the oracle: binds HOST:PORT (port 0 picks a free one), prints `listening on http://HOST:PORT`, then serves app.py with uvicorn."""

import argparse
import socket
import sys
import threading

import uvicorn

from app import app


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when standard input closes (a parent that dies, even by SIGKILL, closes it)",
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request to stdout"
    )
    return parser.parse_args()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP by name: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it every kept-alive response waits ~40 ms on the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listening before the line is printed: whoever reads the line may connect at once, and
    # connections queue in the backlog until uvicorn starts accepting.
    sock.listen(2048)
    return sock


def main() -> int:
    args = parse_args()
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if sock.family == socket.AF_INET6 else host
    # The one line a launcher waits for; nothing else goes to stdout unless --access-log.
    print(f"listening on http://{shown}:{port}", flush=True)

    # "warning" keeps startup chatter off the terminal; a 500's traceback still reaches stderr.
    config = uvicorn.Config(app, log_level="warning", access_log=args.access_log)
    server = uvicorn.Server(config)
    if args.exit_on_stdin_eof:

        def watch_stdin() -> None:
            while sys.stdin.buffer.read(4096):
                pass
            server.should_exit = True

        threading.Thread(target=watch_stdin, daemon=True).start()
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
