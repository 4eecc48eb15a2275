#!/usr/bin/env bash
# Link change → binding active, while /metrics is hammered (root, ~1 min).
# For each daemon binary given (default: this tree's release build), with
# 500 bindings waiting for their taps: creates taps one at a time and times
# how long each takes to show as active in `status`, first with the daemon
# idle, then while 16 clients scrape /metrics as fast as they can. Prints
# p50/p90/max in ms and each binary's hammered/idle ratio of the medians.
#   benches/link_latency.sh [BASELINE_BIN [CANDIDATE_BIN]]
# Writes ${OUT:-target/bench/link_latency.txt}. Only inside the namespace it
# creates; everything it starts is stopped.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TAPS=${TAPS:-60}
H=nfl$$h
# shellcheck source=benches/common.sh
. "$ROOT/benches/common.sh"
if [ $# -eq 0 ]; then
    bench_begin ip:iproute2 python3 -- --bin nfdhcpd
    set -- "$BIN/nfdhcpd"
else
    bench_begin ip:iproute2 python3
fi
BIN=$TMP/bin
mkdir -p "$BIN" "$TMP/bindings"
netns_add "$H"
for i in $(seq 0 499); do
    printf 'IP=203.0.113.%d\nMAC=aa:00:00:00:%02x:%02x\nSUBNET=203.0.113.0/24\nGATEWAY=203.0.113.1\n' \
        $((2 + i % 250)) $((i / 256)) $((i % 256)) >"$TMP/bindings/tl$i"
done
cat >"$TMP/nfdhcpd.conf" <<CONF
[general]
datapath = $TMP/bindings
control_socket = $TMP/control.sock
[dhcp]
enable_dhcp = yes
dhcp_queue = 42
server_ip = 203.0.113.1
[ipv6]
enable_ipv6 = no
[metrics]
listen = 127.0.0.1:9108
CONF

cat >"$TMP/measure.py" <<'PY'
import json, socket, statistics, subprocess, sys, time
sock, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def state(tap):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b"status\n")
    buf = b""
    while True:
        c = s.recv(1 << 20)
        if not c:
            break
        buf += c
    s.close()
    for b in json.loads(buf)["bindings"]:
        if b["tap"] == tap:
            return b["state"]
out = []
for i in range(first, first + n):
    tap = f"tl{i}"
    t0 = time.monotonic()
    subprocess.run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"], check=True)
    while state(tap) != "active":
        time.sleep(0.001)
    out.append((time.monotonic() - t0) * 1000)
    time.sleep(0.02)
q = statistics.quantiles(out, n=10)
print(f"{statistics.median(out):.1f} {q[8]:.1f} {max(out):.1f}")
PY
cat >"$TMP/hammer.py" <<'PY'
import socket, threading
def scrape():
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", 9108), timeout=5)
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            while s.recv(65536):
                pass
            s.close()
        except OSError:
            pass
for _ in range(16):
    threading.Thread(target=scrape, daemon=True).start()
threading.Event().wait()
PY

say "link change → active (ms: p50 p90 max over $TAPS taps), 500 bindings, $(date -u +%F)"
next=0
for bin in "$@"; do
    cp "$bin" "$BIN/nfdhcpd"
    start_daemon "$TMP/nfdhcpd.log"
    idle=$(inh python3 "$TMP/measure.py" "$TMP/control.sock" $next "$TAPS"); next=$((next + TAPS))
    start_bg ip netns exec "$H" python3 "$TMP/hammer.py"; HAM=$LAST
    sleep 1
    busy=$(inh python3 "$TMP/measure.py" "$TMP/control.sock" $next "$TAPS"); next=$((next + TAPS))
    stop_bg "$HAM"
    stop_bg "$ND"
    say "$bin: idle $idle | /metrics hammered $busy | hammered/idle median $(ratio "${busy%% *}" "${idle%% *}")"
done
