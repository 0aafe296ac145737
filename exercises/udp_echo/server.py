"""UDP echo server: answers every datagram with the same bytes, sent back to its sender.

Run it:  python server.py --host 127.0.0.1 --port 9000
Read README.md in this folder for the whole task, then `grader check udp_echo`.
"""
import argparse
import socket


def serve(host: str, port: int) -> None:
    """Bind a UDP socket to (host, port) and echo every datagram to its sender, until killed."""
    # TODO: create a UDP socket (socket.SOCK_DGRAM) and bind it to (host, port).
    #       No listen(), no accept(): UDP has no connections. Then loop forever:
    #       data, addr = recvfrom(...)  - one whole datagram and who sent it. How big may
    #                                     it be? (recvfrom(n) silently drops bytes past n)
    #       sendto(data, addr)          - back to exactly that sender.
    #       An empty datagram (b'') is legal UDP: echo it too - it does not mean "closed".
    raise NotImplementedError("serve() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
