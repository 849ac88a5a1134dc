#!/usr/bin/env python3
"""Opens N idle connections (trust auth, user postgres) and holds them until
killed: the commit benchmark's "idle connections" without a client that
burns CPU. Usage: idle_conns.py PORT N"""
import socket, struct, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    body = struct.pack("!i", 196608) + b"user\0postgres\0database\0postgres\0\0"
    s.sendall(struct.pack("!i", len(body) + 4) + body)
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("connection closed during start-up")
        buf += chunk
        done = False
        while len(buf) >= 5:
            tag, ln = buf[0:1], struct.unpack("!i", buf[1:5])[0]
            if len(buf) < 1 + ln:
                break
            if tag == b"E":
                sys.exit("server refused a connection: " + buf[5:1 + ln].decode(errors="replace"))
            buf = buf[1 + ln:]
            if tag == b"Z":
                done = True
        if done:
            break
    conns.append(s)
print(f"{n} idle connections open", flush=True)
while True:
    time.sleep(3600)
