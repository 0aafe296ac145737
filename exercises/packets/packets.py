"""The layers by hand with struct: MAC addresses, Ethernet II frames, ARP, IPv4 and UDP.

Every multi-byte field on the wire is big-endian ("network byte order"): start every struct
format with '!'. Read README.md in this folder for the whole contract (every function, every
dict key, every error), then `grader check packets`.
"""
import ipaddress  # ipaddress.IPv4Address('192.168.0.1').packed == b'\xc0\xa8\x00\x01', and back
import struct


# -- layer 2: MAC addresses and Ethernet II ----------------------------------------------------

def mac_to_bytes(text: str) -> bytes:
    """'00:1a:2b:3c:4d:5e' or '00-1A-2B-3C-4D-5E' -> 6 bytes; ValueError for anything else."""
    raise NotImplementedError("mac_to_bytes() is not written yet")


def mac_to_str(mac: bytes) -> str:
    """6 bytes -> '00:1a:2b:3c:4d:5e' (lower case, colons); ValueError unless 6 bytes."""
    raise NotImplementedError("mac_to_str() is not written yet")


def mac_info(text: str) -> dict:
    """{'oui': '00:1a:2b', 'serial': '3c:4d:5e', 'kind': 'unicast' | 'multicast' | 'broadcast',
    'local': bool}."""
    # TODO: the OUI is the maker's half, the serial the other one: which half is which?
    # TODO: kind and local come from two bits of the FIRST byte (README.md says which).
    raise NotImplementedError("mac_info() is not written yet")


def build_ethernet(dst: str, src: str, ethertype: int, payload: bytes) -> bytes:
    """dst MAC (6) + src MAC (6) + EtherType (2, big-endian) + payload."""
    raise NotImplementedError("build_ethernet() is not written yet")


def parse_ethernet(frame: bytes) -> dict:
    """{'dst': str, 'src': str, 'ethertype': int, 'payload': bytes}."""
    raise NotImplementedError("parse_ethernet() is not written yet")


# -- ARP: which MAC address has this IPv4 address? -----------------------------------------

def arp_request(sender_mac: str, sender_ip: str, target_ip: str) -> bytes:
    """The whole Ethernet frame asking 'who has target_ip? tell sender_ip'."""
    raise NotImplementedError("arp_request() is not written yet")


def parse_arp(data: bytes) -> dict:
    """{'op', 'sender_mac', 'sender_ip', 'target_mac', 'target_ip'} from an ARP body."""
    raise NotImplementedError("parse_arp() is not written yet")


def arp_reply(request: bytes, my_mac: str) -> bytes:
    """The whole Ethernet frame answering the ARP request frame `request`."""
    raise NotImplementedError("arp_reply() is not written yet")


# -- layer 3: IPv4 and the Internet checksum ---------------------------------------------------

def checksum(data: bytes) -> int:
    """The RFC 1071 Internet checksum of data, as an int 0..0xffff."""
    raise NotImplementedError("checksum() is not written yet")


def build_ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64, ident: int = 0,
               df: bool = True) -> bytes:
    """A 20-byte IPv4 header (no options, checksum filled in), then the payload."""
    raise NotImplementedError("build_ipv4() is not written yet")


def parse_ipv4(packet: bytes) -> dict:
    """The header's fields, 'checksum_ok', 'options' and 'payload' (README.md lists the keys)."""
    raise NotImplementedError("parse_ipv4() is not written yet")


# -- layer 4: UDP ----------------------------------------------------------------------------

def build_udp(src_ip: str, dst_ip: str, src_port: int, dst_port: int, payload: bytes) -> bytes:
    """An 8-byte UDP header with the pseudo-header checksum, then the payload."""
    raise NotImplementedError("build_udp() is not written yet")


def parse_udp(src_ip: str, dst_ip: str, datagram: bytes) -> dict:
    """{'src_port', 'dst_port', 'length', 'checksum', 'checksum_ok', 'payload'}."""
    raise NotImplementedError("parse_udp() is not written yet")


# -- which layer? ------------------------------------------------------------------------------

def layer_of(name: str) -> int:
    """The OSI layer number (1-7) of a piece of networking: 'MAC', 'ARP', 'port', 'HTTP', ..."""
    raise NotImplementedError("layer_of() is not written yet")
