"""The layers by hand with struct: MAC addresses, Ethernet II frames, ARP, IPv4 and UDP.

Every multi-byte field on the wire is big-endian ("network byte order"): every struct format
here starts with '!'. Read README.md in this folder for the whole contract.
"""
import ipaddress
import struct

BROADCAST = b"\xff" * 6
ETH_HEADER = struct.Struct("!6s6sH")            # destination MAC, source MAC, EtherType
ARP_BODY = struct.Struct("!HHBBH6s4s6s4s")      # RFC 826 for Ethernet + IPv4: 28 bytes
IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")    # RFC 791 without options: 20 bytes
UDP_HEADER = struct.Struct("!HHHH")             # RFC 768: 8 bytes
ETHERTYPE_IPV4, ETHERTYPE_ARP = 0x0800, 0x0806
HEXDIGITS = set("0123456789abcdefABCDEF")


# -- layer 2: MAC addresses and Ethernet II ----------------------------------------------------

def mac_to_bytes(text: str) -> bytes:
    """'00:1a:2b:3c:4d:5e' (or with '-', either case) -> 6 bytes."""
    sep = ":" if ":" in text else "-"
    parts = text.split(sep)
    if len(parts) != 6 or any(len(p) != 2 or not set(p) <= HEXDIGITS for p in parts):
        raise ValueError(f"not a MAC address (six 2-digit hex groups): {text!r}")
    return bytes(int(p, 16) for p in parts)


def mac_to_str(mac: bytes) -> str:
    """6 bytes -> '00:1a:2b:3c:4d:5e' (lower case, colons)."""
    if len(mac) != 6:
        raise ValueError(f"a MAC address has 6 bytes, not {len(mac)}")
    return ":".join(f"{b:02x}" for b in mac)


def mac_info(text: str) -> dict:
    """The two halves of a MAC address and what its first octet's two low bits say."""
    mac = mac_to_bytes(text)
    if mac == BROADCAST:
        kind = "broadcast"
    elif mac[0] & 0x01:                         # I/G bit: the first bit on the wire
        kind = "multicast"
    else:
        kind = "unicast"
    return {"oui": mac_to_str(mac)[:8], "serial": mac_to_str(mac)[9:], "kind": kind,
            "local": bool(mac[0] & 0x02)}       # U/L bit: set = locally administered


def build_ethernet(dst: str, src: str, ethertype: int, payload: bytes) -> bytes:
    """An Ethernet II frame (without preamble and FCS): dst, src, EtherType, payload."""
    if not 0x0600 <= ethertype <= 0xFFFF:
        raise ValueError(f"an EtherType is 0x0600..0xffff, not {ethertype:#x}")
    return ETH_HEADER.pack(mac_to_bytes(dst), mac_to_bytes(src), ethertype) + payload


def parse_ethernet(frame: bytes) -> dict:
    if len(frame) < ETH_HEADER.size:
        raise ValueError(f"an Ethernet header has 14 bytes, the frame only {len(frame)}")
    dst, src, ethertype = ETH_HEADER.unpack_from(frame)
    if ethertype < 0x0600:
        raise ValueError(f"{ethertype:#06x} is an IEEE 802.3 length, not an Ethernet II EtherType")
    return {"dst": mac_to_str(dst), "src": mac_to_str(src), "ethertype": ethertype,
            "payload": frame[ETH_HEADER.size:]}


# -- ARP: which MAC address has this IPv4 address? -----------------------------------------

def ip_to_bytes(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def ip_to_str(data: bytes) -> str:
    return str(ipaddress.IPv4Address(data))


def arp_body(op: int, sender_mac: bytes, sender_ip: bytes, target_mac: bytes, target_ip: bytes) -> bytes:
    return ARP_BODY.pack(1, ETHERTYPE_IPV4, 6, 4, op, sender_mac, sender_ip, target_mac, target_ip)


def arp_request(sender_mac: str, sender_ip: str, target_ip: str) -> bytes:
    """'Who has target_ip? Tell sender_ip': a broadcast frame, target MAC all zeros."""
    body = arp_body(1, mac_to_bytes(sender_mac), ip_to_bytes(sender_ip), bytes(6), ip_to_bytes(target_ip))
    return build_ethernet(mac_to_str(BROADCAST), sender_mac, ETHERTYPE_ARP, body)


def parse_arp(data: bytes) -> dict:
    """The 28-byte ARP body (bytes after it - Ethernet padding - are ignored)."""
    if len(data) < ARP_BODY.size:
        raise ValueError(f"an ARP packet for Ethernet and IPv4 has 28 bytes, got {len(data)}")
    htype, ptype, hlen, plen, op, smac, sip, tmac, tip = ARP_BODY.unpack_from(data)
    if (htype, ptype, hlen, plen) != (1, ETHERTYPE_IPV4, 6, 4):
        raise ValueError(f"not ARP for Ethernet and IPv4 (htype {htype}, ptype {ptype:#06x}, "
                         f"hlen {hlen}, plen {plen})")
    return {"op": op, "sender_mac": mac_to_str(smac), "sender_ip": ip_to_str(sip),
            "target_mac": mac_to_str(tmac), "target_ip": ip_to_str(tip)}


def arp_reply(request: bytes, my_mac: str) -> bytes:
    """The answer to an ARP request frame for an address this host has: 'target_ip is at
    my_mac', sent to the asker alone."""
    frame = parse_ethernet(request)
    if frame["ethertype"] != ETHERTYPE_ARP:
        raise ValueError(f"not an ARP frame (EtherType {frame['ethertype']:#06x})")
    ask = parse_arp(frame["payload"])
    if ask["op"] != 1:
        raise ValueError(f"not an ARP request (op {ask['op']})")
    body = arp_body(2, mac_to_bytes(my_mac), ip_to_bytes(ask["target_ip"]),
                    mac_to_bytes(ask["sender_mac"]), ip_to_bytes(ask["sender_ip"]))
    return build_ethernet(ask["sender_mac"], my_mac, ETHERTYPE_ARP, body)


# -- layer 3: IPv4 and the Internet checksum ---------------------------------------------------

def checksum(data: bytes) -> int:
    """RFC 1071: the one's complement of the one's complement sum of 16-bit big-endian words."""
    if len(data) % 2:
        data += b"\x00"  # an odd last byte is the high byte of a word padded with zero
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:  # end-around carry: what overflows 16 bits is added back in
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64, ident: int = 0,
               df: bool = True) -> bytes:
    """A 20-byte IPv4 header (no options) with its checksum, then the payload."""
    total = IPV4_HEADER.size + len(payload)
    if total > 0xFFFF:
        raise ValueError(f"an IPv4 packet has at most 65535 bytes, this one {total}")
    fields = [0x45, 0, total, ident, 0x4000 if df else 0, ttl, proto, 0, ip_to_bytes(src), ip_to_bytes(dst)]
    header = IPV4_HEADER.pack(*fields)
    fields[7] = checksum(header)
    return IPV4_HEADER.pack(*fields) + payload


def parse_ipv4(packet: bytes) -> dict:
    if len(packet) < IPV4_HEADER.size:
        raise ValueError(f"an IPv4 header has at least 20 bytes, got {len(packet)}")
    vihl, tos, total, ident, frag, ttl, proto, csum, src, dst = IPV4_HEADER.unpack_from(packet)
    version, hlen = vihl >> 4, (vihl & 0x0F) * 4
    if version != 4:
        raise ValueError(f"not IPv4 (version {version})")
    if hlen < IPV4_HEADER.size or total < hlen or len(packet) < total:
        raise ValueError(f"inconsistent lengths: header {hlen}, total {total}, have {len(packet)}")
    header = packet[:hlen]
    return {"version": version, "header_length": hlen, "tos": tos, "total_length": total,
            "ident": ident, "df": bool(frag & 0x4000), "mf": bool(frag & 0x2000),
            "fragment_offset": frag & 0x1FFF, "ttl": ttl, "proto": proto, "checksum": csum,
            "checksum_ok": checksum(header) == 0, "src": ip_to_str(src), "dst": ip_to_str(dst),
            "options": packet[IPV4_HEADER.size:hlen], "payload": packet[hlen:total]}


# -- layer 4: UDP ----------------------------------------------------------------------------

def udp_checksum(src_ip: str, dst_ip: str, datagram: bytes) -> int:
    """Over the pseudo-header (src, dst, zero, protocol 17, UDP length) and the datagram."""
    pseudo = ip_to_bytes(src_ip) + ip_to_bytes(dst_ip) + struct.pack("!BBH", 0, 17, len(datagram))
    return checksum(pseudo + datagram)


def build_udp(src_ip: str, dst_ip: str, src_port: int, dst_port: int, payload: bytes) -> bytes:
    length = UDP_HEADER.size + len(payload)
    if not (0 <= src_port <= 0xFFFF and 0 <= dst_port <= 0xFFFF):
        raise ValueError(f"ports are 0..65535: {src_port}, {dst_port}")
    if length > 0xFFFF:
        raise ValueError(f"a UDP datagram has at most 65535 bytes, this one {length}")
    datagram = UDP_HEADER.pack(src_port, dst_port, length, 0) + payload
    csum = udp_checksum(src_ip, dst_ip, datagram)
    if csum == 0:
        csum = 0xFFFF  # 0 on the wire means "no checksum": a computed 0 is sent as its twin 0xffff
    return datagram[:6] + struct.pack("!H", csum) + payload


def parse_udp(src_ip: str, dst_ip: str, datagram: bytes) -> dict:
    if len(datagram) < UDP_HEADER.size:
        raise ValueError(f"a UDP header has 8 bytes, got {len(datagram)}")
    src_port, dst_port, length, csum = UDP_HEADER.unpack_from(datagram)
    if not UDP_HEADER.size <= length <= len(datagram):
        raise ValueError(f"the UDP length {length} does not fit the {len(datagram)} bytes given")
    datagram = datagram[:length]
    ok = csum == 0 or udp_checksum(src_ip, dst_ip, datagram) == 0
    return {"src_port": src_port, "dst_port": dst_port, "length": length, "checksum": csum,
            "checksum_ok": ok, "payload": datagram[UDP_HEADER.size:]}


# -- which layer? ------------------------------------------------------------------------------

LAYERS = {
    "bits": 1, "hub": 1,
    "mac": 2, "ethernet": 2, "arp": 2, "switch": 2, "frame": 2,
    "ip": 3, "ipv4": 3, "icmp": 3, "router": 3, "packet": 3,
    "port": 4, "tcp": 4, "udp": 4, "segment": 4,
    "http": 7, "ftp": 7, "dns": 7,
}


def layer_of(name: str) -> int:
    """The OSI layer number (1-7) of a piece of networking."""
    try:
        return LAYERS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown piece: {name!r}") from None
