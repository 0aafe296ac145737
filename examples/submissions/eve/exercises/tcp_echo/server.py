"""eve's server misbehaves: terminal escape codes, HTML and Markdown instead of an echo."""
import argparse
import socket
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=9000)
args = parser.parse_args()

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((args.host, args.port))
server.listen(5)
while True:
    conn, _ = server.accept()
    sys.stderr.write("\x1b[2J\x1b[31m<script>alert('stderr')</script> [prize](http://evil.example)\n")
    sys.stderr.flush()
    try:
        conn.sendall(b"<script>alert(1)</script> [you win](http://evil.example) ```\n")
    except OSError:
        pass
    conn.close()
