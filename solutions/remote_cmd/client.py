"""Remote command client: sends each line of stdin as one command, then prints the command's
stdout (to stdout), its stderr (to stderr) and a status line "[exit N]" (to stdout).

Run it:  printf 'echo hello\nls\n' | python client.py --host 127.0.0.1 --port 9000
"""
import argparse
import socket
import sys

from cmdwire import recv_result, send_command


def status_line(header: dict) -> bytes:
    """b'[exit 0]\\n', or b'[exit -9, timed out]\\n'."""
    timed_out = ", timed out" if header.get("timed_out") else ""
    return f"[exit {header.get('exit_code')}{timed_out}]\n".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    out, err = sys.stdout.buffer, sys.stderr.buffer
    with socket.create_connection((args.host, args.port)) as sock:
        for line in sys.stdin.buffer:
            command = line.removesuffix(b"\n").decode("utf-8")
            if not command:
                continue  # an empty line is no command
            send_command(sock, command)
            try:
                header, stdout, stderr = recv_result(sock)
            except (ConnectionError, ValueError) as exc:
                sys.exit(f"client.py: no reply to {command!r}: {exc}")
            out.write(stdout)
            if stdout and not stdout.endswith(b"\n"):
                out.write(b"\n")  # the status line starts a line of its own
            err.write(stderr)
            err.flush()
            out.write(status_line(header))
            out.flush()


if __name__ == "__main__":
    main()
