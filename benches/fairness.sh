#!/usr/bin/env bash
# Flood fairness (root, ~2 min): while one VM floods DHCPv4 (then RS, then
# NS) as fast as examples/loadgen can send, how long does a second VM on
# another tap take to get a lease? p50/p99/max over $LEASES leases with
# udhcpc, next to the same figure without any flood, with the shipped
# per-tap limits ([limits] defaults). One more run floods DHCPv4 with the
# limiter off ([limits] rate = 0), to show what the limiter is for.
# Writes ${OUT:-target/bench/fairness.txt}. Only documentation addresses,
# only inside the namespaces it creates; everything it starts is stopped.
# TRACE=1: the same with `nfdhcpd trace` (every tap, every protocol, into a
# file) attached throughout; each flood line then also says how many trace
# lines were written and how many the tracer lost. Compare the figures of
# a run with and one without (e.g. OUT=…/fairness-trace.txt TRACE=1).
# FLOOD_RATE=N paces each flood at N packets/s (default: flat out).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LEASES=${LEASES:-40}
GAP=${GAP:-0.2}   # between the victim's leases: a booting guest's pace, under its own limit
TRACE=${TRACE:-0} # 1: a tracer attached throughout
FLOOD_RATE=${FLOOD_RATE:-0} # packets/s of each flood; 0: as fast as loadgen sends
H=nff$$h
A=nff$$a
B=nff$$b
# shellcheck source=benches/common.sh
. "$ROOT/benches/common.sh"
bench_begin udhcpc iptables ip6tables ip:iproute2 python3 -- --bin nfdhcpd --example loadgen

# --- topology: host with tap-a (flooder) and tap-b (victim) -----------------
netns_add "$H" "$A" "$B"
veth_vm "$A" tap-a "$MAC" 0                   # the fixtures' MAC: its floods are valid requests
inh ip addr add 192.0.2.1/24 dev tap-a
veth_vm "$B" tap-b aa:00:00:00:00:20 0
inh ip addr add 198.51.100.1/24 dev tap-b

fixture_binding tap-a
printf 'INDEV=tap-b\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nSUBNET=198.51.100.0/24\nGATEWAY=198.51.100.1\nSUBNET6=2001:db8:2::/64\n' \
    >"$TMP/bindings/tap-b"
config() { daemon_config 42 "${IPV6_QUEUES[@]}" "[limits]" "$1"; } # $1 = extra [limits] lines
queue_rules "-i tap+"

# Packets offered to queue $1 so far: queued (id sequence) + dropped by the kernel.
kdrops() { echo $(( $(qsum "$1" "$1" 6) + $(qsum "$1" "$1" 7) )); }
offered() { echo $(( $(qsum "$1" "$1" 8) + $(kdrops "$1") )); }

# The victim's leases: prints "p50 p99 max failures" in ms.
leases() {
    local i t0 t1 ms=() fails=0
    for i in $(seq "$LEASES"); do
        t0=$(date +%s%N)
        if ip netns exec "$B" udhcpc -i eth0 -f -n -q -t 5 -T 1 -s /bin/true >/dev/null 2>&1; then
            t1=$(date +%s%N)
            ms+=("$(( (t1 - t0) / 1000 ))")
        else
            fails=$((fails + 1))
        fi
        sleep "$GAP"
    done
    printf '%s\n' "${ms[@]}" | sort -n | awk -v f="$fails" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - - " f; exit }
            p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
            printf "%.1f %.1f %.1f %d\n", p50 / 1000, p99 / 1000, v[NR] / 1000, f
        }'
}

# Packets from tap-a dropped by the per-tap limiter so far (all protocols).
limited() {
    inh "$BIN/nfdhcpd" status --json --socket "$TMP/control.sock" |
        python3 -c 'import json,sys; print(sum(b.get("rate_limited", 0) for b in json.load(sys.stdin)["bindings"] if b["tap"] == "tap-a"))'
}

# With TRACE=1, attaches a tracer to the daemon just started (it ends with it).
start_tracer() {
    [ "$TRACE" = 1 ] || return 0
    : >"$TMP/trace.out"
    start_bg "$BIN/nfdhcpd" trace --socket "$TMP/control.sock" >>"$TMP/trace.out"
    for _ in $(seq 100); do grep -q '^-- tracing' "$TMP/trace.out" && return 0; sleep 0.05; done
    echo "fairness.sh: the tracer did not attach" >&2; exit 1
}
# "lines lost" the tracer has written and been told of so far.
traced() {
    awk '/^-- [0-9]+ line\(s\) lost/ {l += $2; next} !/^--/ {n++} END {print n+0, l+0}' "$TMP/trace.out"
}

# One scenario: $1 = label, $2 = flood ("" for none, or "pcap idx kind"), $3 = its queue.
scenario() {
    local label=$1 flood=$2 q=${3:-42} fp="" o0 o1 d0 d1 l0 t0 t1 r limited n0=0 x0=0 n1 x1
    if [ -n "$flood" ]; then
        o0=$(offered "$q"); d0=$(kdrops "$q"); l0=$(limited); t0=$(date +%s%N)
        [ "$TRACE" = 1 ] && read -r n0 x0 <<<"$(traced)"
        start_bg ip netns exec "$A" "$BIN/examples/loadgen" eth0 $flood "$FLOOD_RATE" 3600 >/dev/null; fp=$LAST
        sleep 1
    fi
    read -r p50 p99 max fails <<<"$(leases)"
    r=""
    if [ -n "$fp" ]; then
        o1=$(offered "$q"); d1=$(kdrops "$q"); t1=$(date +%s%N)
        stop_bg "$fp"
        r=$(awk -v o=$((o1 - o0)) -v d=$((d1 - d0)) -v ns=$((t1 - t0)) \
            'BEGIN{printf "  flood offered %.0f packets/s to queue, kernel drops %.1f %%", o / (ns / 1e9), o ? 100 * d / o : 0}')
        limited=$(( $(limited) - l0 ))
        r="$r, rate_limited on tap-a during it $limited"
        if [ "$TRACE" = 1 ]; then
            read -r n1 x1 <<<"$(traced)"
            r="$r, trace lines $((n1 - n0)) lost $((x1 - x0))"
        fi
    fi
    say "$(printf '%-34s' "$label") victim lease ms: p50=$p50 p99=$p99 max=$max failures=$fails/$LEASES$r"
}

say "# nfdhcpd flood fairness, $(date -u +%FT%TZ)"
say "# $(nproc) cores, $(uname -r); $LEASES victim leases per scenario (udhcpc, ${GAP}s apart)"
[ "$TRACE" = 1 ] && say "# TRACE=1: nfdhcpd trace (every tap, every protocol) attached throughout"
[ "$FLOOD_RATE" != 0 ] && say "# FLOOD_RATE=$FLOOD_RATE: each flood paced at that many packets/s"
config ""
start_daemon "$TMP/nfdhcpd.log"
start_tracer
scenario "no flood" ""
scenario "DHCPv4 flood (default limits)" "$FIX/dhcpv4/udhcpc.pcap 0 dhcp4" 42
scenario "RS flood (default limits)" "$FIX/ipv6/kernel-rs.pcap 0 ra" 43
scenario "NS flood (default limits)" "$FIX/ipv6/ndisc6.pcap 0 na" 44
stop_bg "$ND"
config "rate = 0"
start_daemon "$TMP/nfdhcpd.log"
start_tracer
scenario "DHCPv4 flood (limiter off)" "$FIX/dhcpv4/udhcpc.pcap 0 dhcp4" 42
stop_bg "$ND"
