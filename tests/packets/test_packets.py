"""packets: the graded suite.

packets.py is a plain module: each check loads it in a child process (`student.module`) and
calls its functions through the call driver with JSON-able arguments (bytes travel as bytes).
The judge holds its own reference encoder (below) and compares byte for byte, so a wrong byte
is named by the field it belongs to, and the classic bugs - native byte order, no end-around
carry, an odd last byte dropped or put in the low half, the MAC halves swapped - are recognised
and explained.

Test vectors: the well-known example IPv4 header `45 00 00 73 ... b8 61 ...`; a UDP datagram
captured on the loopback interface (`hello, packets!`, 15 bytes); an IGMP report with the
Router Alert option in a 60-byte padded frame; ARP frames as RFC 826 lays them out. Every
vector was cross-checked against an independent implementation (Scapy) when it was written.

The property checks generate their cases with hypothesis in the judge (derandomized: the same
cases on every run, for every submission) and pass them through the call driver: a bounded
number of calls (CASES cases, a few calls each).
"""
from __future__ import annotations

import ipaddress
import struct

import pytest

from grader.harness import CheckFailed, StudentRaised, StudentTimeout, check, say, show_bytes

CASES = 50  # per property check; each case is a handful of round trips to the student's process

# -- the judge's reference encoder -------------------------------------------------------------

ETH = struct.Struct("!6s6sH")
ARP = struct.Struct("!HHBBH6s4s6s4s")
IPV4 = struct.Struct("!BBHHHBBH4s4s")
UDP = struct.Struct("!HHHH")
BROADCAST = "ff:ff:ff:ff:ff:ff"


def ip(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def mac_text(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)


def fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def words(data: bytes, odd: str = "high") -> list[int]:
    """16-bit big-endian words; an odd last byte padded as RFC 1071 says ('high'), dropped
    ('drop') or taken as the low half ('low') - the last two are the bugs students write."""
    even = data[: len(data) // 2 * 2]
    out = list(struct.unpack(f"!{len(even) // 2}H", even))
    if len(data) % 2 and odd != "drop":
        out.append(data[-1] << 8 if odd == "high" else data[-1])
    return out


def ref_checksum(data: bytes) -> int:
    return ~fold(sum(words(data))) & 0xFFFF


def checksum_bugs(data: bytes) -> dict[str, int]:
    """What the classic wrong checksums give for `data` (only those that differ from right)."""
    right = ref_checksum(data)
    total = sum(words(data))
    once = (total & 0xFFFF) + (total >> 16)
    bugs = {  # in this order: the first that matches is named
        "odd_dropped": ~fold(sum(words(data, "drop"))) & 0xFFFF,
        "odd_low": ~fold(sum(words(data, "low"))) & 0xFFFF,
        "no_carry": ~total & 0xFFFF,
        "one_fold": ~once & 0xFFFF,
        "not_inverted": fold(total),
        "swapped": int.from_bytes(right.to_bytes(2, "big"), "little"),
    }
    return {k: v for k, v in bugs.items() if v != right}


def ref_mac_info(text: str) -> dict:
    m = mac(text.replace("-", ":").lower())
    kind = "broadcast" if m == b"\xff" * 6 else "multicast" if m[0] & 1 else "unicast"
    return {"oui": mac_text(m[:3]), "serial": mac_text(m[3:]), "kind": kind, "local": bool(m[0] & 2)}


def ref_ethernet(dst: str, src: str, ethertype: int, payload: bytes) -> bytes:
    return ETH.pack(mac(dst), mac(src), ethertype) + payload


def ref_arp_body(op, smac, sip, tmac, tip) -> bytes:
    return ARP.pack(1, 0x0800, 6, 4, op, mac(smac), ip(sip), mac(tmac), ip(tip))


def ref_arp_request(smac: str, sip: str, tip: str) -> bytes:
    return ref_ethernet(BROADCAST, smac, 0x0806, ref_arp_body(1, smac, sip, "00:00:00:00:00:00", tip))


def ref_arp_reply(asker_mac: str, asker_ip: str, my_mac: str, my_ip: str) -> bytes:
    return ref_ethernet(asker_mac, my_mac, 0x0806, ref_arp_body(2, my_mac, my_ip, asker_mac, asker_ip))


def ref_ipv4(src, dst, proto, payload, ttl=64, ident=0, df=True) -> bytes:
    fields = [0x45, 0, 20 + len(payload), ident, 0x4000 if df else 0, ttl, proto, 0, ip(src), ip(dst)]
    fields[7] = ref_checksum(IPV4.pack(*fields))
    return IPV4.pack(*fields) + payload


def ref_udp(src_ip, dst_ip, sport, dport, payload) -> bytes:
    body = UDP.pack(sport, dport, 8 + len(payload), 0) + payload
    csum = ref_checksum(ip(src_ip) + ip(dst_ip) + struct.pack("!BBH", 0, 17, len(body)) + body) or 0xFFFF
    return body[:6] + struct.pack("!H", csum) + payload


def ip_summed(packet: bytes) -> dict:
    """What an IPv4 header's checksum covers: the header with its checksum field 0."""
    hlen = (packet[0] & 15) * 4
    return {"summed": packet[:10] + b"\0\0" + packet[12:hlen]}


def udp_summed(src_ip: str, dst_ip: str, datagram: bytes) -> dict:
    """What a UDP checksum covers: the pseudo-header, then the datagram with checksum field 0."""
    pseudo = ip(src_ip) + ip(dst_ip) + struct.pack("!BBH", 0, 17, len(datagram))
    return {"summed": pseudo + datagram[:6] + b"\0\0" + datagram[8:], "pseudo": pseudo}


# -- the test vectors --------------------------------------------------------------------------

# The well-known example header (192.168.0.1 -> 192.168.0.199, UDP, 115 bytes in all).
IPV4_EXAMPLE = bytes.fromhex("45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7")
# Captured on the loopback interface: 127.0.0.1:53913 -> 127.0.0.1:51438, b"hello, packets!".
# The kernel leaves the UDP checksum to the (virtual) card there, so the capture holds a partial
# sum (fe 2a); 9f 8a is the full checksum the datagram has on a real wire.
LO_IP_HEADER = bytes.fromhex("45 00 00 2b 19 c6 40 00 40 11 22 fa 7f 00 00 01 7f 00 00 01")
LO_UDP = bytes.fromhex("d2 99 c8 ee 00 17 9f 8a") + b"hello, packets!"
LO_FRAME = bytes(12) + b"\x08\x00" + LO_IP_HEADER + LO_UDP
# IGMPv2 report for 224.0.0.251 (the mDNS group): IHL 6 (the Router Alert option 94 04 00 00),
# sent to the group's multicast MAC, padded to Ethernet's 60-byte minimum with 14 zero bytes.
IGMP_FRAME = bytes.fromhex(
    "01 00 5e 00 00 fb 52 54 00 12 34 56 08 00"
    "46 c0 00 20 00 00 40 00 01 02 42 73 c0 a8 00 01 e0 00 00 fb 94 04 00 00"
    "16 00 09 04 e0 00 00 fb" + " 00" * 14)
# A UDP datagram whose sum comes out as 0: it must be sent as ff ff (0 means "no checksum").
ZERO_SUM = ("10.0.0.1", "10.0.0.2", 1234, 5678, b"zero?\xf8\xa4")
ZERO_SUM_UDP = bytes.fromhex("04 d2 16 2e 00 0f ff ff") + b"zero?\xf8\xa4"

ALICE, ALICE_IP = "00:1a:2b:3c:4d:5e", "192.168.0.1"
BOB, BOB_IP = "52:54:00:12:34:56", "192.168.0.199"

# -- field names, to say where a wrong byte is --------------------------------------------------

F = {
    "dst_mac": say("destination MAC", "目的 MAC 地址"),
    "src_mac": say("source MAC", "源 MAC 地址"),
    "ethertype": say("EtherType", "类型字段 EtherType"),
    "htype": say("ARP hardware type", "ARP 硬件类型"),
    "ptype": say("ARP protocol type", "ARP 协议类型"),
    "hlen": say("ARP hardware size", "ARP 硬件地址长度"),
    "plen": say("ARP protocol size", "ARP 协议地址长度"),
    "op": say("ARP op (1 request, 2 reply)", "ARP 操作码（1 请求，2 应答）"),
    "sha": say("ARP sender MAC", "ARP 发送方 MAC 地址"),
    "spa": say("ARP sender IP", "ARP 发送方 IP 地址"),
    "tha": say("ARP target MAC", "ARP 目标 MAC 地址"),
    "tpa": say("ARP target IP", "ARP 目标 IP 地址"),
    "vihl": say("IPv4 version and header length", "IPv4 版本与首部长度"),
    "tos": say("IPv4 type of service", "IPv4 服务类型"),
    "total": say("IPv4 total length", "IPv4 总长度"),
    "ident": say("IPv4 identification", "IPv4 标识"),
    "frag": say("IPv4 flags and fragment offset", "IPv4 标志与片偏移"),
    "ttl": say("IPv4 TTL", "IPv4 生存时间 TTL"),
    "proto": say("IPv4 protocol", "IPv4 协议字段"),
    "ipsum": say("IPv4 header checksum", "IPv4 首部校验和"),
    "src": say("IPv4 source address", "IPv4 源地址"),
    "dst": say("IPv4 destination address", "IPv4 目的地址"),
    "sport": say("UDP source port", "UDP 源端口"),
    "dport": say("UDP destination port", "UDP 目的端口"),
    "ulen": say("UDP length", "UDP 长度"),
    "usum": say("UDP checksum", "UDP 校验和"),
    "payload": say("payload", "数据部分"),
    "oui": say("OUI (maker) half", "OUI（厂商号）部分"),
    "serial": say("serial half", "流水号部分"),
}
MAC_LAYOUT = [(0, 3, "oui"), (3, 6, "serial")]
ETH_LAYOUT = [(0, 6, "dst_mac"), (6, 12, "src_mac"), (12, 14, "ethertype")]
ARP_LAYOUT = [(0, 2, "htype"), (2, 4, "ptype"), (4, 5, "hlen"), (5, 6, "plen"), (6, 8, "op"),
              (8, 14, "sha"), (14, 18, "spa"), (18, 24, "tha"), (24, 28, "tpa")]
IPV4_LAYOUT = [(0, 1, "vihl"), (1, 2, "tos"), (2, 4, "total"), (4, 6, "ident"), (6, 8, "frag"),
               (8, 9, "ttl"), (9, 10, "proto"), (10, 12, "ipsum"), (12, 16, "src"), (16, 20, "dst")]
UDP_LAYOUT = [(0, 2, "sport"), (2, 4, "dport"), (4, 6, "ulen"), (6, 8, "usum")]


def shifted(layout, by):
    return [(a + by, b + by, name) for a, b, name in layout]


ARP_FRAME = ETH_LAYOUT + shifted(ARP_LAYOUT, 14)

# -- hints -------------------------------------------------------------------------------------

HINT_ORDER = say("every field on the wire is big-endian (network byte order): struct formats start "
                 "with '!', e.g. struct.pack('!H', 0x0806) is b'\\x08\\x06'; without '!' struct uses "
                 "this machine's little-endian order",
                 "线路上的每个字段都是大端序（网络字节序）：struct 的格式串以 '!' 开头，例如 "
                 "struct.pack('!H', 0x0806) 是 b'\\x08\\x06'；不写 '!' 时 struct 用本机的小端序")
HINT_CHECKSUM = say("RFC 1071: add the data as 16-bit big-endian words, fold what overflows 16 bits "
                    "back into the low 16 (end-around carry) until nothing overflows, pad an odd "
                    "last byte with a zero byte after it (it is the HIGH half of a word), then invert",
                    "RFC 1071：把数据按 16 位大端字逐个相加，超出 16 位的进位要加回低 16 位（回卷进位），"
                    "直到不再溢出；长度为奇数时在最后一个字节后面补一个零字节（它是一个字的高 8 位），"
                    "最后按位取反")
HINT_MAC = say("a MAC address is 6 bytes: the first 3 are the OUI (the maker's number), the last 3 "
               "the serial; in the first byte, bit 0x01 set means multicast (all ff is broadcast) "
               "and bit 0x02 set means locally administered",
               "MAC 地址共 6 个字节：前 3 个是 OUI（厂商号），后 3 个是流水号；第一个字节中 0x01 位为 1 "
               "表示组播（全 ff 是广播），0x02 位为 1 表示本地管理地址")
HINT_ARP = say("ARP asks 'who has this IPv4 address?' in a broadcast frame (EtherType 0x0806, target "
               "MAC all zeros); the owner answers the asker alone: op 2, sender = its own MAC and the "
               "asked IP, target = the asker's MAC and IP. No ports anywhere",
               "ARP 用一个广播帧发问“谁有这个 IPv4 地址？”（EtherType 0x0806，目标 MAC 全为零）；"
               "地址的主人只回答提问者：op 为 2，发送方是自己的 MAC 和被问的 IP，目标是提问者的 MAC 和 IP。"
               "其中没有任何端口")
HINT_IPV4 = say("the header length is IHL * 4 bytes (options follow the first 20), the packet ends "
                "at total length (what follows is Ethernet padding), and a header is intact when "
                "checksum(header) == 0 with its checksum field left in",
                "首部长度是 IHL * 4 字节（前 20 字节之后是选项），数据报在总长度处结束（后面的是以太网填充），"
                "首部完好的判断是：连同校验和字段一起算 checksum(header) == 0")
HINT_UDP = say("the UDP checksum covers a pseudo-header (source IP, destination IP, a zero byte, "
               "protocol 17, UDP length) and then the whole datagram with its checksum field 0; a "
               "result of 0 is sent as 0xffff, because 0 on the wire means 'no checksum'",
               "UDP 校验和覆盖一个伪首部（源 IP、目的 IP、一个零字节、协议号 17、UDP 长度），再加上校验和字段"
               "置 0 的整个数据报；算出 0 时要发送 0xffff，因为线路上的 0 表示“没有校验和”")
HINT_LAYERS = say("ARP rides directly in Ethernet frames and maps an IPv4 address to a MAC address: "
                  "data link (2). Ports belong to TCP and UDP: transport (4). IP addresses and "
                  "routers: network (3)",
                  "ARP 直接装在以太网帧里，把 IPv4 地址映射成 MAC 地址：数据链路层（2）。端口属于 TCP 和 UDP："
                  "传输层（4）。IP 地址和路由器：网络层（3）")
HINT_ERRORS = say("check what you are given and raise ValueError for what cannot be right: "
                  "struct.error and IndexError are not ValueError, and a lenient parser hides bugs",
                  "先检查收到的数据，不可能正确的就抛出 ValueError：struct.error 和 IndexError 都不是 "
                  "ValueError，宽松的解析只会把错误藏起来")


# -- calling the student's module and judging answers -------------------------------------------

class Hex:
    """Bytes shown as a hex dump: packets read better that way."""

    def __init__(self, data: bytes):
        self.data = bytes(data)

    def __repr__(self) -> str:
        n = len(self.data)
        return self.data.hex(" ") + "  " + str(say("({n} bytes)", "（{n} 字节）", n=n) if n != 1
                                               else say("(1 byte)", "（1 字节）"))


def arg_text(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return show_bytes(value, 40).split(" (")[0] if len(value) <= 12 else \
            str(say("<{n} bytes>", "<{n} 字节>", n=len(value)))
    return repr(value)


def call_text(func: str, *args, **kwargs) -> str:
    parts = [arg_text(a) for a in args] + [f"{k}={arg_text(v)}" for k, v in kwargs.items()]
    return f"{func}({', '.join(parts)})"


def raised_line(exc: StudentRaised) -> str:
    tb = [l for l in exc.traceback.rstrip().splitlines() if l.strip()]
    return tb[-1].strip() if tb else f"{exc.type}: {exc.message}"


def traceback_tail(exc: StudentRaised, lines: int = 6):
    tb = [l for l in exc.traceback.rstrip().splitlines() if l.strip()]
    if not tb:
        return None
    return say("where it raised:\n{tb}", "出错的位置：\n{tb}", tb="\n".join("    " + l for l in tb[-lines:]))


def call(mod, func: str, *args, what=None, sent=None, **kwargs):
    """mod.func(*args) in the student's process; a readable failure if it raises or hangs."""
    text = call_text(func, *args, **kwargs)
    try:
        return mod.call(func, *args, timeout=5.0, **kwargs)
    except StudentRaised as exc:
        raise CheckFailed(say("{call} raised {exc}", "{call} 抛出了异常 {exc}", call=text, exc=raised_line(exc))
                          + (what or ""), sent=sent, detail=traceback_tail(exc)) from None
    except StudentTimeout:
        raise CheckFailed(say("{call} did not return within 5 s; it was stopped",
                              "{call} 在 5 秒内没有返回，已被终止", call=text), sent=sent) from None


def field_at(layout, i: int):
    for a, b, name in layout:
        if a <= i < b:
            return a, b, name
    end = layout[-1][1] if layout else 0
    return end, None, "payload"


def checksum_note(got_sum: int, summed: bytes, pseudo: bytes = b""):
    """Which classic bug gives `got_sum` for the bytes the checksum covers, if one does."""
    if pseudo and got_sum == (ref_checksum(summed[len(pseudo):]) or 0xFFFF):
        return say("; it is the checksum of the UDP datagram alone: the pseudo-header (source IP, "
                   "destination IP, 0, 17, UDP length) must be summed first",
                   "；这正是只对 UDP 数据报本身求出的校验和：必须先把伪首部（源 IP、目的 IP、0、17、UDP 长度）加进去")
    if pseudo and got_sum == 0 and ref_checksum(summed) == 0:
        return say("; the sum came out as 0, and 0 on the wire means 'no checksum': send 0xffff",
                   "；算出的校验和是 0，而线路上的 0 表示“没有校验和”：应发送 0xffff")
    for bug, value in checksum_bugs(summed).items():
        if got_sum == value or (pseudo and value == 0 and got_sum == 0xFFFF):
            return say("; ", "；") + CHECKSUM_BUG_NOTES[bug]
    return say("; everything before it is right, so the sum itself is wrong",
               "；它前面的字节都对，所以错在校验和本身的计算")


def byte_diff_note(expected: bytes, got: bytes, layout, summed: bytes | None = None, pseudo: bytes = b""):
    """Where the first wrong byte is, by field, and what the difference most likely means."""
    at = next((i for i, (x, y) in enumerate(zip(expected, got)) if x != y), None)
    if at is None:
        return say("the first {n} bytes agree, then yours has {m} bytes where {k} were expected",
                   "前 {n} 个字节一致，但你的结果有 {m} 个字节，应为 {k} 个",
                   n=min(len(expected), len(got)), m=len(got), k=len(expected))
    a, b, name = field_at(layout, at)
    field = F[name]
    note = say("the first wrong byte is byte {i}, in the {field} (bytes {a}..{b})",
               "第一个错误的字节是第 {i} 个字节，属于字段“{field}”（第 {a}..{b} 字节）",
               i=at, field=field, a=a, b=(b or len(expected)) - 1)
    if name == "sha" and len(got) == len(expected) == 42 and got[22:32] == expected[32:42] \
            and got[32:42] == expected[22:32]:
        note += say("; sender and target are the wrong way round: in a reply the sender is the "
                    "host that answers (its MAC, the asked IP), the target is the asker",
                    "；发送方和目标弄反了：应答中的发送方是回答的主机（它的 MAC 和被问的 IP），目标是提问者")
    elif b is not None and b - a == 2 and got[a:b] == expected[a:b][::-1]:
        note += say("; its two bytes are swapped: that is little-endian, what struct gives "
                    "without '!'", "；它的两个字节颠倒了：这是小端序，也就是 struct 格式串不写 '!' 时的结果")
    elif name in ("ipsum", "usum") and len(got) == len(expected) and got[b:] == expected[b:]:
        if summed is not None:
            note += checksum_note(int.from_bytes(got[a:b], "big"), summed, pseudo)
        else:
            note += say("; everything else is right, so the sum itself is wrong",
                        "；其余字节都对，所以错在校验和本身的计算")
    return note


def expect_packet(got, expected: bytes, call_str: str, layout, *, hint=None, sent=None, case=None,
                  summed: bytes | None = None, pseudo: bytes = b""):
    """`summed`: the bytes the packet's checksum covers (checksum field 0), to name a wrong sum."""
    if isinstance(got, (bytes, bytearray)) and bytes(got) == expected:
        return
    summary = say("what {call} returned", "{call} 的返回值", call=call_str)
    if case:
        summary += case
    if not isinstance(got, (bytes, bytearray)):
        raise CheckFailed(summary + say(": expected bytes", "：应返回 bytes"), sent=sent,
                          expected=Hex(expected), got=got, has_got=True, hint=hint)
    raise CheckFailed(summary, sent=sent, expected=Hex(expected), got=Hex(got),
                      detail=byte_diff_note(expected, bytes(got), layout, summed, pseudo), hint=hint)


CHECKSUM_BUG_NOTES = {
    "swapped": say("yours is the right value with its two bytes swapped: the words were read "
                   "little-endian (struct without '!')",
                   "你的结果正好是正确值两个字节颠倒：数据按小端序读成了 16 位字（struct 格式串没写 '!'）"),
    "no_carry": say("yours is what you get when the carries out of 16 bits are thrown away: RFC 1071 "
                    "adds them back in (end-around carry)",
                    "你的结果正是把超出 16 位的进位丢掉后得到的：RFC 1071 要求把进位加回低 16 位（回卷进位）"),
    "one_fold": say("yours folds the carry back only once: adding the carry can overflow again, so "
                    "fold until nothing is left above 16 bits",
                    "你的代码只回卷了一次进位：加回进位后可能再次溢出，要一直回卷到高于 16 位的部分为零"),
    "odd_dropped": say("yours ignores the odd last byte: pad it with a zero byte after it",
                       "你的代码忽略了奇数长度数据的最后一个字节：应在它后面补一个零字节"),
    "odd_low": say("yours adds the odd last byte as the LOW half of a word: padded with a zero byte "
                   "after it, it is the HIGH half (byte << 8)",
                   "你的代码把奇数长度数据的最后一个字节当成了字的低 8 位：在它后面补零之后，它是高 8 位（byte << 8）"),
    "not_inverted": say("yours is the sum itself: the checksum is its one's complement (~sum & 0xffff)",
                        "你的结果是和本身：校验和是它的反码（~sum & 0xffff）"),
}


def expect_checksum(got, data: bytes, call_str: str, *, sent=None, case=None):
    want = ref_checksum(data)
    if got == want:
        return
    summary = say("what {call} returned", "{call} 的返回值", call=call_str)
    if case:
        summary += case
    detail = None
    if isinstance(got, int):
        for bug, value in checksum_bugs(data).items():
            if got == value:
                detail = CHECKSUM_BUG_NOTES[bug]
                break
    raise CheckFailed(summary, sent=sent if sent is not None else Hex(data),
                      expected=HexInt(want), got=HexInt(got) if isinstance(got, int) else got,
                      has_got=True, detail=detail, hint=HINT_CHECKSUM)


class Plain:
    """A value shown as it reads, without repr's quotes."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


class HexInt:
    def __init__(self, value: int):
        self.value = value

    def __repr__(self) -> str:
        return f"{self.value:#06x}"


def expect_fields(got, expected: dict, call_str: str, *, hint=None, sent=None, case=None):
    """Compare a returned dict key by key (extra keys are allowed); name the first wrong one."""
    summary = say("what {call} returned", "{call} 的返回值", call=call_str)
    if case:
        summary += case
    if not isinstance(got, dict):
        raise CheckFailed(summary + say(": expected a dict", "：应返回一个 dict"), sent=sent,
                          expected=expected, got=got, has_got=True, hint=hint)
    for key, want in expected.items():
        if key not in got:
            raise CheckFailed(summary + say(": the key {key!r} is missing", "：缺少键 {key!r}", key=key),
                              sent=sent, expected=expected, got=got, hint=hint)
        value = got[key]
        if isinstance(want, bool):
            same = isinstance(value, bool) and value == want
        elif isinstance(want, int):
            same = isinstance(value, int) and not isinstance(value, bool) and value == want
        elif isinstance(want, bytes):
            same = isinstance(value, (bytes, bytearray)) and bytes(value) == want
        else:
            same = value == want
        if not same:
            detail = None
            if (isinstance(want, int) and isinstance(value, int) and not isinstance(want, bool)
                    and 0 <= want <= 0xFFFF and value == int.from_bytes(want.to_bytes(2, "big"), "little")
                    and value != want):
                detail = say("{got:#06x} is {want:#06x} with its two bytes swapped: read big-endian "
                             "with '!'", "{got:#06x} 正是 {want:#06x} 两个字节颠倒的结果：应该用 '!' 按大端序读取",
                             got=value, want=want)
            if key == "checksum_ok":
                detail = say("the packet is intact: the checksum over the bytes it covers, its own "
                             "checksum field included, comes out as 0", "这个包是完好的：把校验和覆盖的字节连同"
                             "校验和字段本身一起求校验和，结果是 0") if want else \
                    say("a byte was changed after the checksum was computed: the checksum over the "
                        "bytes it covers, its own field included, is no longer 0",
                        "校验和算好之后有字节被改动了：连同校验和字段一起再求校验和，结果不再是 0")
            shown_want = Hex(want) if isinstance(want, bytes) else want
            shown_got = Hex(value) if isinstance(value, (bytes, bytearray)) else value
            raise CheckFailed(summary + say(": {key!r} is wrong", "：{key!r} 不对", key=key), sent=sent,
                              expected=shown_want, got=shown_got, has_got=True, detail=detail, hint=hint)


def expect_value_error(mod, func: str, *args, why, hint=HINT_ERRORS):
    text = call_text(func, *args)
    try:
        got = mod.call(func, *args, timeout=5.0)
    except StudentRaised as exc:
        if exc.is_a("ValueError"):
            return
        raise CheckFailed(say("{call} raised {exc}, not ValueError ({why})",
                              "{call} 抛出的是 {exc}，而不是 ValueError（{why}）",
                              call=text, exc=raised_line(exc), why=why),
                          detail=traceback_tail(exc), hint=hint) from None
    except StudentTimeout:
        raise CheckFailed(say("{call} did not return within 5 s; it was stopped",
                              "{call} 在 5 秒内没有返回，已被终止", call=text), hint=hint) from None
    raise CheckFailed(say("{call} returned instead of raising ValueError ({why})",
                          "{call} 正常返回了，应当抛出 ValueError（{why}）", call=text, why=why),
                      expected="ValueError", got=got, has_got=True, hint=hint)


@pytest.fixture
def pk(student):
    return student.module("packets")


# -- layer 2: MAC addresses ---------------------------------------------------------------------

@check(points=1, hint=HINT_MAC,
       title=say("MAC addresses: text to 6 bytes and back", "MAC 地址：文本与 6 字节之间的转换"))
def test_mac_text_and_bytes(pk):
    for text, data in (("00:1a:2b:3c:4d:5e", bytes.fromhex("001a2b3c4d5e")),
                       ("00-1A-2B-3C-4D-5E", bytes.fromhex("001a2b3c4d5e")),
                       ("FF:ff:FF:ff:FF:ff", b"\xff" * 6),
                       ("01:00:5e:00:00:fb", bytes.fromhex("01005e0000fb"))):
        got = call(pk, "mac_to_bytes", text)
        if got != data:
            raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=call_text("mac_to_bytes", text)),
                              expected=Hex(data), got=Hex(got) if isinstance(got, bytes) else got,
                              has_got=True)
    for data, text in ((bytes.fromhex("001a2b3c4d5e"), "00:1a:2b:3c:4d:5e"),
                       (bytes.fromhex("0a0b0c0d0e0f"), "0a:0b:0c:0d:0e:0f"),
                       (bytes.fromhex("5254001234ff"), "52:54:00:12:34:ff")):
        got = call(pk, "mac_to_str", data)
        if got != text:
            raise CheckFailed(say("what {call} returned (lower case, two digits per byte, colons)",
                                  "{call} 的返回值（小写，每个字节两位十六进制，用冒号分隔）",
                                  call=call_text("mac_to_str", data)),
                              expected=text, got=got, has_got=True,
                              hint=say("f'{b:02x}' gives two lower-case hex digits for each byte",
                                       "f'{b:02x}' 给出每个字节的两位小写十六进制"))


MAC_KINDS = [
    ("00:1a:2b:3c:4d:5e", "a universally administered unicast address", "全球唯一管理的单播地址"),
    ("ff:ff:ff:ff:ff:ff", "the broadcast address", "广播地址"),
    ("01:00:5e:00:00:fb", "the multicast MAC of the IPv4 group 224.0.0.251 (mDNS)",
     "IPv4 组 224.0.0.251（mDNS）对应的组播 MAC 地址"),
    ("33:33:00:00:00:01", "an IPv6 multicast MAC (all nodes): both low bits set",
     "IPv6 组播 MAC 地址（所有节点）：最低两位都为 1"),
    ("02:42:ac:11:00:02", "a Docker container's address: locally administered, unicast",
     "Docker 容器的地址：本地管理的单播地址"),
    ("52:54:00:12:34:56", "QEMU's default: locally administered, unicast", "QEMU 的默认地址：本地管理的单播地址"),
    ("80:00:00:00:00:01", "unicast: the high bit 0x80 of the first byte says nothing of multicast",
     "单播：第一个字节的最高位 0x80 与组播无关"),
]


@check(points=1, hint=HINT_MAC,
       title=say("mac_info: the OUI (maker) half and the serial half", "mac_info：OUI（厂商号）与流水号两半"))
def test_mac_oui_and_serial(pk):
    for text in ("00:1a:2b:3c:4d:5e", "3c:22:fb:9a:10:01", "52:54:00:12:34:56"):
        want = ref_mac_info(text)
        got = call(pk, "mac_info", text)
        expect_fields(got, {"oui": want["oui"], "serial": want["serial"]}, call_text("mac_info", text),
                      hint=say("the OUI is the FIRST three bytes ({oui}), the serial the last three",
                               "OUI 是前三个字节（{oui}），流水号是后三个字节", oui=want["oui"]))


@check(points=2, hint=HINT_MAC,
       title=say("mac_info: unicast, multicast, broadcast, locally administered",
                 "mac_info：单播、组播、广播、本地管理"))
def test_mac_kinds(pk):
    for text, en, zh in MAC_KINDS:
        want = ref_mac_info(text)
        got = call(pk, "mac_info", text)
        first = int(text[:2], 16)
        expect_fields(got, {"kind": want["kind"], "local": want["local"]},
                      call_text("mac_info", text),
                      case=say(" ({what}; its first byte is {b:#04x} = 0b{b:08b})",
                               "（{what}；第一个字节是 {b:#04x} = 0b{b:08b}）", what=say(en, zh), b=first),
                      hint=HINT_MAC)


# -- Ethernet II and ARP -----------------------------------------------------------------------

@check(points=1, hint=HINT_ORDER,
       title=say("Ethernet II frames: built and parsed", "以太网 II 帧：构造与解析"))
def test_ethernet_frame(pk):
    body = ref_arp_body(1, ALICE, ALICE_IP, "00:00:00:00:00:00", BOB_IP)
    want = ref_ethernet(BROADCAST, ALICE, 0x0806, body)
    got = call(pk, "build_ethernet", BROADCAST, ALICE, 0x0806, body)
    expect_packet(got, want, call_text("build_ethernet", BROADCAST, ALICE, 0x0806, body), ARP_FRAME,
                  hint=HINT_ORDER)
    got = call(pk, "parse_ethernet", LO_FRAME)
    expect_fields(got, {"dst": "00:00:00:00:00:00", "src": "00:00:00:00:00:00", "ethertype": 0x0800,
                        "payload": LO_IP_HEADER + LO_UDP},
                  call_text("parse_ethernet", LO_FRAME) + say(" (a frame captured on the loopback interface)",
                                                              "（在回环接口上抓到的帧）"),
                  sent=Hex(LO_FRAME), hint=HINT_ORDER)
    got = call(pk, "parse_ethernet", IGMP_FRAME)
    expect_fields(got, {"dst": "01:00:5e:00:00:fb", "src": BOB, "ethertype": 0x0800, "payload": IGMP_FRAME[14:]},
                  call_text("parse_ethernet", IGMP_FRAME), sent=Hex(IGMP_FRAME), hint=HINT_ORDER)


@check(points=1, hint=HINT_ARP,
       title=say("arp_request: 'who has 192.168.0.199? tell 192.168.0.1'",
                 "arp_request：“谁有 192.168.0.199？请告诉 192.168.0.1”"))
def test_arp_request(pk):
    for smac, sip, tip in ((ALICE, ALICE_IP, BOB_IP), (BOB, "10.1.2.3", "10.1.2.254")):
        got = call(pk, "arp_request", smac, sip, tip)
        expect_packet(got, ref_arp_request(smac, sip, tip), call_text("arp_request", smac, sip, tip),
                      ARP_FRAME, hint=HINT_ARP)


@check(points=1, hint=HINT_ARP,
       title=say("arp_reply answers a request frame (60 bytes, padded) to the asker alone",
                 "arp_reply 只回答提问者（请求帧 60 字节，含填充）"))
def test_arp_reply(pk):
    request = ref_arp_request(ALICE, ALICE_IP, BOB_IP) + bytes(18)  # as received: padded to 60
    got = call(pk, "arp_reply", request, BOB)
    expect_packet(got, ref_arp_reply(ALICE, ALICE_IP, BOB, BOB_IP), call_text("arp_reply", request, BOB),
                  ARP_FRAME, sent=Hex(request), hint=HINT_ARP)
    reply = ref_arp_reply(ALICE, ALICE_IP, BOB, BOB_IP) + bytes(18)
    got = call(pk, "parse_arp", reply[14:])
    expect_fields(got, {"op": 2, "sender_mac": BOB, "sender_ip": BOB_IP, "target_mac": ALICE,
                        "target_ip": ALICE_IP},
                  call_text("parse_arp", reply[14:]) + say(" (an ARP reply with 18 bytes of Ethernet padding after it)",
                                                           "（一个后面带 18 字节以太网填充的 ARP 应答）"),
                  sent=Hex(reply[14:]), hint=HINT_ARP)


# -- layer 3: IPv4 and its checksum --------------------------------------------------------------

@check(points=1, hint=HINT_CHECKSUM,
       title=say("checksum: the example header gives 0xb861, and 0 with the checksum in",
                 "checksum：示例首部算出 0xb861，带上校验和再算得 0"))
def test_checksum_known_header(pk):
    zeroed = IPV4_EXAMPLE[:10] + b"\x00\x00" + IPV4_EXAMPLE[12:]
    for data in (zeroed, IPV4_EXAMPLE, LO_IP_HEADER):
        expect_checksum(call(pk, "checksum", data), data, call_text("checksum", data), sent=Hex(data))


@check(points=1, hint=HINT_IPV4,
       title=say("build_ipv4 gives the example header byte for byte", "build_ipv4 逐字节得到示例首部"))
def test_ipv4_header_vector(pk):
    payload = bytes(95)
    args = ("192.168.0.1", "192.168.0.199", 17, payload)
    got = call(pk, "build_ipv4", *args, ttl=64, ident=0, df=True)
    if isinstance(got, (bytes, bytearray)) and len(got) == 115 and got[20:] == payload:
        got = bytes(got[:20])  # show the header alone
    expect_packet(got, IPV4_EXAMPLE, call_text("build_ipv4", *args, ttl=64, ident=0, df=True)
                  + say(" (its first 20 bytes)", "（前 20 个字节）"), IPV4_LAYOUT, hint=HINT_ORDER,
                  **ip_summed(IPV4_EXAMPLE))
    args = ("127.0.0.1", "127.0.0.1", 17, LO_UDP)
    got = call(pk, "build_ipv4", *args, ttl=64, ident=0x19C6)
    expect_packet(got, LO_IP_HEADER + LO_UDP, call_text("build_ipv4", *args, ttl=64, ident=0x19C6),
                  IPV4_LAYOUT, hint=HINT_ORDER, **ip_summed(LO_IP_HEADER))


def ipv4_fields(packet: bytes, **over) -> dict:
    vihl, tos, total, ident, frag, ttl, proto, csum, src, dst = IPV4.unpack_from(packet)
    hlen = (vihl & 15) * 4
    fields = {"version": 4, "header_length": hlen, "tos": tos, "total_length": total, "ident": ident,
              "df": bool(frag & 0x4000), "mf": bool(frag & 0x2000), "fragment_offset": frag & 0x1FFF,
              "ttl": ttl, "proto": proto, "checksum": csum, "checksum_ok": True,
              "src": str(ipaddress.IPv4Address(src)), "dst": str(ipaddress.IPv4Address(dst)),
              "options": packet[20:hlen], "payload": packet[hlen:total]}
    fields.update(over)
    return fields


@check(points=1, hint=HINT_IPV4,
       title=say("parse_ipv4 reads a captured packet and verifies its checksum",
                 "parse_ipv4 解析抓到的数据报并验证校验和"))
def test_parse_ipv4(pk):
    packet = LO_IP_HEADER + LO_UDP
    got = call(pk, "parse_ipv4", packet)
    expect_fields(got, ipv4_fields(packet), call_text("parse_ipv4", packet), sent=Hex(packet), hint=HINT_IPV4)
    broken = packet[:8] + b"\x3f" + packet[9:]  # TTL 64 -> 63 without a new checksum
    got = call(pk, "parse_ipv4", broken)
    expect_fields(got, {"ttl": 63, "checksum_ok": False},
                  call_text("parse_ipv4", broken) + say(" (the TTL was changed after the checksum was computed)",
                                                        "（TTL 在计算校验和之后被改动过）"),
                  sent=Hex(broken), hint=HINT_IPV4)


# -- layer 4: UDP --------------------------------------------------------------------------------

@check(points=2, hint=HINT_UDP,
       title=say("build_udp / parse_udp: a captured datagram, odd length, pseudo-header checksum",
                 "build_udp / parse_udp：抓到的数据报，奇数长度，伪首部校验和"))
def test_udp_datagram(pk):
    args = ("127.0.0.1", "127.0.0.1", 0xD299, 0xC8EE, b"hello, packets!")
    got = call(pk, "build_udp", *args)
    expect_packet(got, LO_UDP, call_text("build_udp", *args), UDP_LAYOUT, hint=HINT_UDP,
                  **udp_summed("127.0.0.1", "127.0.0.1", LO_UDP))
    got = call(pk, "parse_udp", "127.0.0.1", "127.0.0.1", LO_UDP)
    expect_fields(got, {"src_port": 0xD299, "dst_port": 0xC8EE, "length": 23, "checksum": 0x9F8A,
                        "checksum_ok": True, "payload": b"hello, packets!"},
                  call_text("parse_udp", "127.0.0.1", "127.0.0.1", LO_UDP), sent=Hex(LO_UDP), hint=HINT_UDP)
    other = call_text("parse_udp", "127.0.0.2", "127.0.0.1", LO_UDP)
    got = call(pk, "parse_udp", "127.0.0.2", "127.0.0.1", LO_UDP)
    expect_fields(got, {"checksum_ok": False},
                  other + say(" (the same datagram, said to come from another address: the pseudo-header "
                              "makes the checksum cover the IP addresses)",
                              "（同一个数据报，但声称来自另一个地址：伪首部让校验和也覆盖了 IP 地址）"),
                  hint=HINT_UDP)


# -- which layer? ------------------------------------------------------------------------------

LAYER_NAMES = {1: say("physical", "物理层"), 2: say("data link", "数据链路层"), 3: say("network", "网络层"),
               4: say("transport", "传输层"), 5: say("session", "会话层"), 6: say("presentation", "表示层"),
               7: say("application", "应用层")}
PIECES = {"bits": 1, "hub": 1, "MAC": 2, "Ethernet": 2, "ARP": 2, "switch": 2, "frame": 2,
          "IP": 3, "IPv4": 3, "ICMP": 3, "router": 3, "packet": 3,
          "port": 4, "TCP": 4, "UDP": 4, "segment": 4, "HTTP": 7, "FTP": 7, "DNS": 7}


@check(points=1, hint=HINT_LAYERS,
       title=say("layer_of: which OSI layer each piece belongs to", "layer_of：每一部分属于 OSI 的哪一层"))
def test_layers(pk):
    for name, want in PIECES.items():
        got = call(pk, "layer_of", name)
        if got != want:
            note = None
            if name in ("ARP", "port") and got == 3:
                note = say("the course note puts {name} in the network layer (网络层); that is its error",
                           "课程笔记把 {name} 放在了网络层，这正是笔记的错误", name=name)
            raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=call_text("layer_of", name)),
                              expected=Plain(f"{want} ({LAYER_NAMES[want]})"),
                              got=Plain(f"{got} ({LAYER_NAMES[got]})") if got in LAYER_NAMES else got,
                              has_got=True, detail=note, hint=HINT_LAYERS)


# -- hidden: the robustness ideas ---------------------------------------------------------------

@check(points=1, hidden=True, hint=HINT_CHECKSUM,
       title=say("checksum: odd lengths, empty data, a carry that needs a second fold",
                 "checksum：奇数长度、空数据、需要第二次回卷的进位"))
def test_checksum_edge_cases(pk):
    for data in (b"\x01", b"", b"\xff\xff\xff\xff\x00\x01", b"\xab\xcd\xef", b"\xff" * 9,
                 b"\x00\x00", b"hello, packets!", bytes(range(255))):
        expect_checksum(call(pk, "checksum", data), data, call_text("checksum", data), sent=Hex(data))


@check(points=1, hidden=True, hint=HINT_IPV4,
       title=say("real-world parsing: IPv4 options, Ethernet padding, a UDP checksum of 0",
                 "真实数据的解析：IPv4 选项、以太网填充、为 0 的 UDP 校验和"))
def test_parse_real_world(pk):
    packet = IGMP_FRAME[14:]  # 46 bytes: a 24-byte header, 8 bytes of IGMP, 14 bytes of padding
    got = call(pk, "parse_ipv4", packet)
    expect_fields(got, ipv4_fields(packet), call_text("parse_ipv4", packet)
                  + say(" (IHL 6: the Router Alert option; the packet ends at total length 32, the "
                        "14 bytes after it are Ethernet padding)",
                        "（IHL 为 6：带路由器告警选项；数据报在总长度 32 处结束，后面 14 字节是以太网填充）"),
                  sent=Hex(packet), hint=HINT_IPV4)
    no_sum = LO_UDP[:6] + b"\x00\x00" + LO_UDP[8:] + b"\x00\x00\x00"
    got = call(pk, "parse_udp", "127.0.0.1", "127.0.0.1", no_sum)
    expect_fields(got, {"checksum": 0, "checksum_ok": True, "length": 23, "payload": b"hello, packets!"},
                  call_text("parse_udp", "127.0.0.1", "127.0.0.1", no_sum)
                  + say(" (checksum field 0: the sender computed none, which UDP over IPv4 allows; "
                        "3 bytes of padding after the datagram's length)",
                        "（校验和字段为 0：发送方没有计算校验和，IPv4 上的 UDP 允许这样；数据报长度之后还有 3 字节填充）"),
                  sent=Hex(no_sum), hint=HINT_UDP)


@check(points=1, hidden=True, hint=HINT_UDP,
       title=say("build_udp sends a computed checksum of 0 as 0xffff", "build_udp 把算出的 0 校验和发送为 0xffff"))
def test_udp_zero_checksum(pk):
    got = call(pk, "build_udp", *ZERO_SUM)
    expect_packet(got, ZERO_SUM_UDP, call_text("build_udp", *ZERO_SUM)
                  + say(" (this datagram's one's complement sum comes out as 0)", "（这个数据报的反码和算出来是 0）"),
                  UDP_LAYOUT, hint=HINT_UDP, **udp_summed(*ZERO_SUM[:2], ZERO_SUM_UDP))


@check(points=1, hidden=True, hint=HINT_ERRORS,
       title=say("malformed input raises ValueError", "格式错误的输入抛出 ValueError"))
def test_rejects_malformed(pk):
    bad = [
        ("mac_to_bytes", ("00:1a:2b:3c:4d",), say("five groups", "只有五组")),
        ("mac_to_bytes", ("00:1a:2b:3c:4d:5e:6f",), say("seven groups", "有七组")),
        ("mac_to_bytes", ("00:1a:2b:3c:4d:5g",), say("'5g' is not hex", "'5g' 不是十六进制")),
        ("mac_to_bytes", ("001a2b3c4d5e",), say("no separators", "没有分隔符")),
        ("mac_to_bytes", ("00:1a2b:3c:4d:5e",), say("a group of four digits", "有一组是四位")),
        ("mac_to_bytes", ("0:1a:2b:3c:4d:5e:",), say("a one-digit group and a trailing colon", "有一组只有一位，结尾还多一个冒号")),
        ("mac_to_str", (b"\x00\x1a\x2b\x3c\x4d",), say("5 bytes are not a MAC address", "5 个字节不是 MAC 地址")),
        ("parse_ethernet", (b"\xff" * 13,), say("shorter than the 14-byte header", "比 14 字节的首部还短")),
        ("parse_ethernet", (bytes(12) + b"\x00\x2e" + bytes(46),),
         say("0x002e is an IEEE 802.3 length, not an EtherType", "0x002e 是 IEEE 802.3 的长度字段，不是 EtherType")),
        ("parse_arp", (ref_arp_body(1, ALICE, ALICE_IP, BOB, BOB_IP)[:27],), say("27 bytes", "只有 27 字节")),
        ("parse_arp", (b"\x00\x06" + ref_arp_body(1, ALICE, ALICE_IP, BOB, BOB_IP)[2:],),
         say("hardware type 6 (IEEE 802 networks), not Ethernet", "硬件类型为 6（IEEE 802 网络），不是以太网")),
        ("arp_reply", (ref_arp_reply(ALICE, ALICE_IP, BOB, BOB_IP), ALICE), say("a reply is not a request", "应答不是请求")),
        ("parse_ipv4", (b"\x60" + IPV4_EXAMPLE[1:] + bytes(95),), say("version 6", "版本号为 6")),
        ("parse_ipv4", (IPV4_EXAMPLE + bytes(50),), say("total length 115, only 70 bytes given", "总长度 115，却只有 70 字节")),
        ("parse_ipv4", (b"\x44" + LO_IP_HEADER[1:] + LO_UDP,), say("IHL 4: a header shorter than 20 bytes", "IHL 为 4：首部短于 20 字节")),
        ("parse_udp", ("127.0.0.1", "127.0.0.1", LO_UDP[:20]), say("UDP length 23, only 20 bytes given", "UDP 长度 23，却只有 20 字节")),
        ("build_udp", ("127.0.0.1", "127.0.0.1", 70000, 53, b"x"), say("port 70000", "端口 70000")),
    ]
    for func, args, why in bad:
        expect_value_error(pk, func, *args, why=why)


# -- hidden: property checks on generated fields -------------------------------------------------

def generated(strategy, n: int = CASES) -> list:
    """n cases drawn by hypothesis, derandomized: the same list on every run of one installation
    (what is drawn may differ between hypothesis versions, so the cases a mutant must meet are
    written out by the callers)."""
    from hypothesis import HealthCheck, Phase, given, settings

    out = []

    @settings(derandomize=True, max_examples=n, database=None, phases=[Phase.generate],
              deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(case):
        out.append(case)

    collect()
    return out[:n]


def case_note(i: int, n: int):
    return say(" (generated case {i} of {n}: the same cases on every run)",
               "（生成的第 {i} 个用例，共 {n} 个：每次运行用例都相同）", i=i, n=n)


def layer2_cases():
    from hypothesis import strategies as st

    def shape(pick_and_mac):  # mostly any 6 bytes; sometimes broadcast, sometimes multicast
        pick, m = pick_and_mac
        return b"\xff" * 6 if pick == 7 else bytes([m[0] | 1]) + m[1:] if pick == 8 else m

    macs = st.tuples(st.integers(0, 8), st.binary(min_size=6, max_size=6)).map(shape)
    ips = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
    # The edge cases come first, written out: what hypothesis draws may change between its
    # versions, and every kind of address must be tried whichever version is installed.
    edges = [{"a": b"\xff" * 6, "b": b"\x01\x00\x5e\x00\x00\xfb", "sep": "-", "upper": True,
              "ethertype": 0x0806, "payload": b"", "ip_a": "0.0.0.0", "ip_b": "255.255.255.255"},
             {"a": b"\x03\xa0\xc9\x14\xc8\x29", "b": b"\xff" * 6, "sep": ":", "upper": False,
              "ethertype": 0xFFFF, "payload": bytes(range(64)), "ip_a": "10.0.0.1", "ip_b": "10.0.0.2"},
             {"a": bytes(6), "b": b"\x02\x00\x00\x00\x00\x01", "sep": ":", "upper": True,
              "ethertype": 0x0600, "payload": b"\x00", "ip_a": "127.0.0.1", "ip_b": "192.168.1.254"}]
    drawn = generated(st.fixed_dictionaries({
        "a": macs, "b": macs, "sep": st.sampled_from([":", "-"]), "upper": st.booleans(),
        "ethertype": st.integers(0x0600, 0xFFFF), "payload": st.binary(max_size=64),
        "ip_a": ips, "ip_b": ips}), CASES - len(edges))
    return edges + drawn


@check(points=1, hidden=True, hint=HINT_MAC, time_limit=40,
       title=say("property: MAC addresses, Ethernet frames and ARP on generated fields",
                 "性质测试：用生成的字段检验 MAC 地址、以太网帧和 ARP"))
def test_property_layer2(pk):
    cases = layer2_cases()
    for i, c in enumerate(cases, 1):
        note = case_note(i, len(cases))
        a, b = mac_text(c["a"]), mac_text(c["b"])
        text = a.replace(":", c["sep"])
        text = text.upper() if c["upper"] else text
        got = call(pk, "mac_to_str", c["a"], what=note)
        if got != a:
            raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=call_text("mac_to_str", c["a"])) + note,
                              expected=a, got=got, has_got=True, hint=HINT_MAC)
        got = call(pk, "mac_to_bytes", text, what=note)
        expect_packet(got, c["a"], call_text("mac_to_bytes", text), MAC_LAYOUT, case=note, hint=HINT_MAC)
        expect_fields(call(pk, "mac_info", text, what=note), ref_mac_info(text), call_text("mac_info", text),
                      case=note, hint=HINT_MAC)
        args = (b, a, c["ethertype"], c["payload"])
        frame = ref_ethernet(*args)
        expect_packet(call(pk, "build_ethernet", *args, what=note), frame, call_text("build_ethernet", *args),
                      ETH_LAYOUT, case=note, hint=HINT_ORDER)
        expect_fields(call(pk, "parse_ethernet", frame, what=note),
                      {"dst": b, "src": a, "ethertype": c["ethertype"], "payload": c["payload"]},
                      call_text("parse_ethernet", frame), sent=Hex(frame), case=note, hint=HINT_ORDER)
        request = ref_arp_request(a, c["ip_a"], c["ip_b"])
        expect_packet(call(pk, "arp_request", a, c["ip_a"], c["ip_b"], what=note), request,
                      call_text("arp_request", a, c["ip_a"], c["ip_b"]), ARP_FRAME, case=note, hint=HINT_ARP)
        expect_fields(call(pk, "parse_arp", request[14:], what=note),
                      {"op": 1, "sender_mac": a, "sender_ip": c["ip_a"], "target_mac": "00:00:00:00:00:00",
                       "target_ip": c["ip_b"]},
                      call_text("parse_arp", request[14:]), sent=Hex(request[14:]), case=note, hint=HINT_ARP)
        expect_packet(call(pk, "arp_reply", request, b, what=note), ref_arp_reply(a, c["ip_a"], b, c["ip_b"]),
                      call_text("arp_reply", request, b), ARP_FRAME, sent=Hex(request), case=note, hint=HINT_ARP)


def layer34_cases():
    from hypothesis import strategies as st

    ips = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
    edges = [  # written out, like layer2's: odd and even lengths, the extremes of every field
        {"src": "255.255.255.255", "dst": "255.255.255.255", "sport": 65535, "dport": 65535,
         "payload": b"\xff" * 399, "ttl": 255, "ident": 65535, "df": True},
        {"src": "0.0.0.0", "dst": "127.0.0.1", "sport": 0, "dport": 53, "payload": b"\x01",
         "ttl": 0, "ident": 0, "df": False},
        {"src": "10.1.2.3", "dst": "192.168.0.77", "sport": 40000, "dport": 8080,
         "payload": bytes(range(256)), "ttl": 64, "ident": 4660, "df": True}]
    return edges + generated(st.fixed_dictionaries({
        "src": ips, "dst": ips, "sport": st.integers(0, 65535), "dport": st.integers(0, 65535),
        "payload": st.one_of(st.binary(max_size=16), st.binary(min_size=17, max_size=400)),
        "ttl": st.integers(0, 255), "ident": st.integers(0, 65535),
        "df": st.booleans()}), CASES - len(edges))


@check(points=2, hidden=True, hint=HINT_UDP, time_limit=40,
       title=say("property: checksums, IPv4 packets and UDP datagrams on generated fields",
                 "性质测试：用生成的字段检验校验和、IPv4 数据报和 UDP 数据报"))
def test_property_ipv4_udp(pk):
    cases = layer34_cases()
    for i, c in enumerate(cases, 1):
        note = case_note(i, len(cases))
        expect_checksum(call(pk, "checksum", c["payload"], what=note), c["payload"],
                        call_text("checksum", c["payload"]), case=note)
        uargs = (c["src"], c["dst"], c["sport"], c["dport"], c["payload"])
        datagram = ref_udp(*uargs)
        expect_packet(call(pk, "build_udp", *uargs, what=note), datagram, call_text("build_udp", *uargs),
                      UDP_LAYOUT, case=note, hint=HINT_UDP, **udp_summed(c["src"], c["dst"], datagram))
        expect_fields(call(pk, "parse_udp", c["src"], c["dst"], datagram, what=note),
                      {"src_port": c["sport"], "dst_port": c["dport"], "length": len(datagram),
                       "checksum": struct.unpack_from("!H", datagram, 6)[0], "checksum_ok": True,
                       "payload": c["payload"]},
                      call_text("parse_udp", c["src"], c["dst"], datagram), sent=Hex(datagram), case=note,
                      hint=HINT_UDP)
        kw = {"ttl": c["ttl"], "ident": c["ident"], "df": c["df"]}
        packet = ref_ipv4(c["src"], c["dst"], 17, datagram, **kw)
        expect_packet(call(pk, "build_ipv4", c["src"], c["dst"], 17, datagram, what=note, **kw), packet,
                      call_text("build_ipv4", c["src"], c["dst"], 17, datagram, **kw), IPV4_LAYOUT,
                      case=note, hint=HINT_IPV4, **ip_summed(packet))
        expect_fields(call(pk, "parse_ipv4", packet, what=note), ipv4_fields(packet),
                      call_text("parse_ipv4", packet), sent=Hex(packet), case=note, hint=HINT_IPV4)
