"""carol's server: a missing colon, so Python refuses the whole file."""
import argparse
import socket

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=9000)
args = parser.parse_args()

server = socket.socket()
server.bind((args.host, args.port))
server.listen(5)
while True
    conn, _ = server.accept()
    data = conn.recv(1024)
    conn.sendall(data)
    conn.close()
