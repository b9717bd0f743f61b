#!/usr/bin/env python3
"""Classic pcap files and Ethernet frames in pure Python (no scapy), and
the pcapng files dpdk-dumpcap writes.

The bh-l2fwd tests write the frames net_pcap ports read and read back the
ones they write. net_pcap writes nanosecond pcaps and reads either kind, so
reading accepts both timestamp precisions and both byte orders.

Run as a script, it lists a pcap's frames (for looking at a failed test's
output): python3 pcaptool.py FILE...
"""

import struct
import sys

LINKTYPE_ETHERNET = 1
SNAPLEN = 65535
MAGIC_USEC = 0xA1B2C3D4
MAGIC_NSEC = 0xA1B23C4D
ETH_HLEN = 14
ETHERTYPE_VLAN = 0x8100
# IEEE 802 local experimental EtherType: no stack on the way gives it meaning.
ETHERTYPE_EXPERIMENTAL = 0x88B5


def write_pcap(path, frames):
    """Writes @frames (bytes each) as a microsecond little-endian pcap."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', MAGIC_USEC, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
        for i, frame in enumerate(frames):
            # Distinct, increasing timestamps keep the file valid for any reader.
            f.write(struct.pack('<IIII', i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    """The frames of the pcap at @path, in file order. Raises ValueError on a
    file that is not an Ethernet pcap or holds truncated captures, since a
    comparison of cut frames would report the wrong problem."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f'{path}: {len(data)} bytes, shorter than a pcap header')
    for order in '<>':
        if struct.unpack(order + 'I', data[:4])[0] in (MAGIC_USEC, MAGIC_NSEC):
            break
    else:
        raise ValueError(f'{path}: not a pcap file (magic {data[:4].hex()})')
    linktype = struct.unpack(order + 'I', data[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError(f'{path}: link type {linktype}, not Ethernet')
    frames, pos = [], 24
    while pos < len(data):
        if pos + 16 > len(data):
            raise ValueError(f'{path}: record header cut at offset {pos}')
        _, _, caplen, origlen = struct.unpack(order + 'IIII', data[pos:pos + 16])
        pos += 16
        if caplen != origlen or pos + caplen > len(data):
            raise ValueError(f'{path}: frame {len(frames)} truncated ({caplen} of {origlen} bytes)')
        frames.append(data[pos:pos + caplen])
        pos += caplen
    return frames


PCAPNG_SHB, PCAPNG_IDB, PCAPNG_EPB = 0x0A0D0D0A, 1, 6
PCAPNG_BYTE_ORDER = 0x1A2B3C4D
PCAPNG_OPT_IF_NAME, PCAPNG_OPT_EPB_FLAGS = 2, 2
INBOUND, OUTBOUND = 'in', 'out'


def pcapng_options(data, order):
    """{code: value bytes} of an options list (the first value of a repeated code)."""
    options, pos = {}, 0
    while pos + 4 <= len(data):
        code, length = struct.unpack(order + 'HH', data[pos:pos + 4])
        if code == 0:
            break
        options.setdefault(code, data[pos + 4:pos + 4 + length])
        pos += 4 + (length + 3) // 4 * 4
    return options


def read_pcapng(path):
    """The packets of the pcapng at @path (as dpdk-dumpcap writes it), in
    file order: (interface name, direction, frame), the direction INBOUND,
    OUTBOUND or None from the packet's epb_flags. Raises ValueError on a file
    that is not pcapng or holds truncated captures."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 12 or struct.unpack('<I', data[:4])[0] != PCAPNG_SHB:
        raise ValueError(f'{path}: not a pcapng file (starts {data[:4].hex()})')
    order = '<' if struct.unpack('<I', data[8:12])[0] == PCAPNG_BYTE_ORDER else '>'
    interfaces, packets, pos = [], [], 0
    while pos + 12 <= len(data):
        kind, length = struct.unpack(order + 'II', data[pos:pos + 8])
        if length < 12 or pos + length > len(data):
            raise ValueError(f'{path}: block of {length} bytes cut at offset {pos}')
        body = data[pos + 8:pos + length - 4]
        if kind == PCAPNG_IDB:
            linktype = struct.unpack(order + 'H', body[:2])[0]
            if linktype != LINKTYPE_ETHERNET:
                raise ValueError(f'{path}: interface {len(interfaces)} has link type {linktype}, not Ethernet')
            interfaces.append(pcapng_options(body[8:], order).get(PCAPNG_OPT_IF_NAME, b'').rstrip(b'\0').decode())
        elif kind == PCAPNG_EPB:
            iface, _, _, caplen, origlen = struct.unpack(order + 'IIIII', body[:20])
            if caplen != origlen:
                raise ValueError(f'{path}: packet {len(packets)} truncated ({caplen} of {origlen} bytes)')
            flags = pcapng_options(body[20 + (caplen + 3) // 4 * 4:], order).get(PCAPNG_OPT_EPB_FLAGS)
            direction = {1: INBOUND, 2: OUTBOUND}.get(struct.unpack(order + 'I', flags)[0] & 3) if flags else None
            packets.append((interfaces[iface], direction, body[20:20 + caplen]))
        pos += length
    return packets


def mac(text):
    """'02:00:00:00:00:01' -> 6 bytes."""
    b = bytes.fromhex(text.replace(':', ''))
    if len(b) != 6:
        raise ValueError(f'not a MAC address: {text!r}')
    return b


def mac_str(b):
    return ':'.join(f'{x:02x}' for x in b)


def ether_frame(dst, src, size, tag, vlan=None, ethertype=ETHERTYPE_EXPERIMENTAL):
    """A @size-byte frame (without FCS, as pcap holds it) from MAC bytes
    @dst to @src, 802.1Q-tagged with VLAN id @vlan if given. The payload
    starts with @tag (bytes) and is then filled with a pattern, so that a
    frame that is lost, reordered or altered anywhere shows in a comparison."""
    header = dst + src
    if vlan is not None:
        header += struct.pack('!HH', ETHERTYPE_VLAN, vlan)
    header += struct.pack('!H', ethertype)
    if size < len(header) + len(tag):
        raise ValueError(f'{size} bytes cannot hold the header and tag {tag!r}')
    fill = size - len(header) - len(tag)
    return header + tag + bytes((i * 7 + size) & 0xFF for i in range(fill))


def describe(frame):
    """One line about @frame for messages: length, MACs, EtherType."""
    if len(frame) < ETH_HLEN:
        return f'{len(frame)} bytes (runt) {frame.hex()}'
    return (f'{len(frame)} bytes {mac_str(frame[6:12])} -> {mac_str(frame[0:6])} '
            f'type 0x{frame[12:14].hex()}')


if __name__ == '__main__':
    for path in sys.argv[1:]:
        frames = read_pcap(path)
        print(f'{path}: {len(frames)} frames')
        for i, frame in enumerate(frames):
            print(f'  {i}: {describe(frame)}')
