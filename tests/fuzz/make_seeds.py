#!/usr/bin/env python3
"""Writes the hand-made seed corpora of the fuzz targets (tests/fuzz/corpus/NAME/):
valid inputs of every form each parser knows, so a short run starts deep.
Run from the source tree: python3 tests/fuzz/make_seeds.py (idempotent).
The mailbox corpus is the 30 smallest inputs of a 200-s fuzzer run after -merge=1,
not made here."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


HUMAN = [
    "help", "help exec", "status", "guest", "heartbeat", "heartbeat interval 5000",
    "exec --timeout 5 --cwd /tmp --env A=b --env C=d -- sh -c \"echo \\\"hi\\\"; exit 3\"",
    "exec echo 'single quoted' \"double\\\\quoted\"", "kill", "kill 3",
    "shutdown --force --reboot --timeout 30 --reason \"kernel update\"",
    "param get motd", "param set motd 'hello there'", "param list", "timesync on", "timesync status",
    "additions install", "stats", "log", "log 3", "mode json", "mode human", "ping", "poweroff --reboot",
]
JSON = [
    '{"id":1,"cmd":"status"}', '{"id":2,"cmd":"help"}', '{"id":3,"cmd":"guest"}',
    '{"id":4,"cmd":"heartbeat","interval":5000}',
    '{"id":5,"cmd":"exec","argv":["sh","-c","echo \\"hi\\"\\n\\u00e9\\ud83d\\ude00"],"timeout":5,"cwd":"/","env":["A=b"]}',
    '{"id":6,"cmd":"kill","target":5}',
    '{"id":7,"cmd":"shutdown","force":true,"reboot":false,"timeout":30,"reason":"update"}',
    '{"id":8,"cmd":"param","action":"set","name":"motd","value":"hello"}',
    '{"id":9,"cmd":"param","action":"get","name":"motd"}', '{"id":10,"cmd":"param","action":"list"}',
    '{"id":11,"cmd":"timesync","action":"off"}', '{"id":12,"cmd":"additions","action":"install"}',
    '{"id":13,"cmd":"stats"}', '{"id":14,"cmd":"log","level":4}', '{"id":15,"cmd":"mode","mode":"human"}',
    '{"id":16,"cmd":"ping"}', '{"id":9007199254740991,"cmd":"poweroff","reboot":true}',
    ' {"id":17, "cmd" : "exec", "argv":[], "x":{"y":[true,false,null,-12]}} ',
]


def elf32(entry=0x101000, paddr=0x101000, body=b"\xf4" * 16, multiboot=True):
    header_size, ph_size = 52, 32
    offset = header_size + ph_size
    payload = b""
    if multiboot:
        flags = 0x00000003
        payload += struct.pack("<III", 0x1BADB002, flags, (-(0x1BADB002 + flags)) & 0xFFFFFFFF)
    payload += body
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, header_size, 0, 0, header_size, ph_size, 1,
                                 40, 0, 0)
    ph = struct.pack("<IIIIIIII", 1, offset, paddr - offset, paddr - offset, len(payload) + offset,
                     len(payload) + offset + 0x100, 7, 0x1000)
    return header + ph + payload


def elf64(entry=0x201000, paddr=0x201000, segments=2):
    header_size, ph_size = 64, 56
    offset = header_size + ph_size * segments
    mb = struct.pack("<III", 0x1BADB002, 0x00010002, (-(0x1BADB002 + 0x00010002)) & 0xFFFFFFFF)
    body = mb + b"\x90" * 32
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, header_size, 0, 0, header_size, ph_size,
                                 segments, 64, 0, 0)
    phs = b""
    for i in range(segments):
        phs += struct.pack("<IIQQQQQQ", 1, 7, 0 if i else offset - 0, 0xFFFFFFFF80000000 + paddr + i * 0x1000,
                           paddr + i * 0x1000 - (0 if i else 0), len(body) if i == 0 else 0, 0x800, 0x1000)
    return header + phs + body


BASE = 0x10000  # fuzz_multiboot.c: FAKE_PHYSICAL_BASE, where the information block starts


def mb1(flags=0x24F):
    info = bytearray(0x200)
    cmdline, loader, mods, mmap, mod_cmd = 0x100, 0x140, 0x160, 0x180, 0x1E0
    struct.pack_into("<IIII", info, 0, flags, 639, 130048, 0x80000000)
    struct.pack_into("<III", info, 16, BASE + cmdline, 1, BASE + mods)
    struct.pack_into("<II", info, 44, 3 * 24, BASE + mmap)
    struct.pack_into("<I", info, 64, BASE + loader)
    info[cmdline:cmdline + 28] = b"console=com1 guest_exit=off\0"
    info[loader:loader + 10] = b"GRUB 2.06\0"
    struct.pack_into("<IIII", info, mods, 0x400000, 0x480000, BASE + mod_cmd, 0)
    info[mod_cmd:mod_cmd + 14] = b"/guest.elf a\0\0"
    for i, (base, length, kind) in enumerate([(0, 0x9FC00, 1), (0xF0000, 0x10000, 2), (0x100000, 0x7F00000, 1)]):
        struct.pack_into("<IQQI", info, mmap + i * 24, 20, base, length, kind)
    return bytes([0]) + bytes(info)


def mb2():
    tags = b""

    def tag(kind, payload):
        nonlocal tags
        size = 8 + len(payload)
        tags += struct.pack("<II", kind, size) + payload + bytes((8 - size % 8) % 8)

    tag(1, b"console=com1 log=3\0")
    tag(2, b"GRUB 2.06\0")
    tag(3, struct.pack("<II", 0x400000, 0x480000) + b"/guest.elf x\0")
    tag(4, struct.pack("<II", 639, 130048))
    entries = b"".join(struct.pack("<QQII", b, l, t, 0) for b, l, t in
                       [(0, 0x9FC00, 1), (0xE0000, 0x20000, 2), (0x100000, 0x7F00000, 1), (0xFEC00000, 0x1000, 4)])
    tag(6, struct.pack("<II", 24, 0) + entries)
    tag(14, b"RSD PTR " + bytes([0]) + b"BOCHS " + bytes([0, 0, 0, 0, 0]))
    tag(0, b"")
    info = struct.pack("<II", 8 + len(tags), 0) + tags
    return bytes([1]) + info


def main():
    for i, line in enumerate(HUMAN):
        write("fuzz_console_human", "line-%02d" % i, line)
    for i, line in enumerate(JSON):
        write("fuzz_json_request", "request-%02d" % i, line)
    write("fuzz_console_line", "human-session", "\x00" + "\r".join(HUMAN[:12]) + "\r")
    write("fuzz_console_line", "json-session", "\x01" + "\n".join(JSON) + "\n")
    write("fuzz_console_line", "human-to-json", "\x02" + "status\rmode json\r" + "\n".join(JSON[:6]) + "\n")
    write("fuzz_guest_elf", "elf32-multiboot", elf32())
    write("fuzz_guest_elf", "elf32-low", elf32(entry=0x20000 + 12, paddr=0x20000))
    write("fuzz_guest_elf", "elf64-higher-half", elf64())
    write("fuzz_guest_elf", "elf64-low", elf64(entry=0x30000, paddr=0x30000, segments=1))
    write("fuzz_multiboot", "mb1-full", mb1())
    write("fuzz_multiboot", "mb1-memory-only", mb1(flags=0x1))
    write("fuzz_multiboot", "mb2-full", mb2())


if __name__ == "__main__":
    main()
