#!/usr/bin/env bash
# Whole-path benchmark (root, ~10 min): the test topology in throwaway network
# namespaces (host end "tap-r" of a veth, VM end "eth0" with the binding's
# MAC), measured three ways in one run:
#   1. ceiling: the same requests into a queue whose consumer only DROPs
#      (examples/drop_consumer: no parsing, no reply); and the reply
#      ceiling: the same consumer sending each packet back to the guest as
#      its own "reply" (--mirror: the kernel's cost of a reply, none of a
#      daemon's work);
#   2. nfdhcpd answering them (release build, rate limit off);
#   3. dnsmasq (Debian package) answering the same client from a static
#      dhcp-host entry on tap-r, without NFQUEUE;
# then ceiling and nfdhcpd again on a real tap (tap-t) fed by the generator
# as a VMM feeds it.
# Load: examples/loadgen (replays a captured request from the fixtures at a
# rate, counts replies, DHCPv4 round trips) and perfdhcp (-R 1, relayed).
# Writes the results to ${OUT:-target/bench/load.txt} and prints them.
# RECV_BATCH=n sets both the daemon's [general] recv_batch and
# drop_consumer's --recv-batch (unset: the default, several queue messages
# per system call; 1: one recv per packet, as before batching).
# QUEUE_NAP_US=n sets the daemon's [general] queue_nap_us (0: a busy
# worker sleeps on its socket after each drain, as before the naps).
# Only documentation addresses, only inside the namespaces; every namespace
# and process this script starts is removed on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${SECS:-4}
PERF_SECS=${PERF_SECS:-3}
PERF_RATES=${PERF_RATES:-"1000 2000 4000 6000 8000 10000 14000 18000 22000 26000 30000"}
SUST_SECS=${SUST_SECS:-2}
RECV_BATCH=${RECV_BATCH:-}
DC_BATCH=()
if [ -n "$RECV_BATCH" ]; then DC_BATCH=(--recv-batch "$RECV_BATCH"); fi
SUST_RATES=${SUST_RATES:-"5000 10000 15000 20000 25000 30000 40000 50000 60000 75000 90000 100000 120000 140000 160000 180000 200000 225000 250000"}
H=nfb$$h
V=nfb$$v
# shellcheck source=benches/common.sh
. "$ROOT/benches/common.sh"
bench_begin perfdhcp:kea-admin dnsmasq iptables ip6tables:iptables ip:iproute2 \
    -- --bin nfdhcpd --example drop_consumer --example loadgen --example bindings_load

veth_topology

fixture_binding tap-r
config() { # $1 = dhcp queue (n or first:last)
    daemon_config "$1" "${IPV6_QUEUES[@]}" "${IPV6_DNS[@]}" "[limits]" "rate = 0"
}
rules() { norules; queue_rules "-i tap-r" "$1"; } # $1 = NFQUEUE target options for DHCPv4
norules() { inh iptables -t mangle -F PREROUTING; inh ip6tables -t mangle -F PREROUTING; }
qsnap() { echo "$(qsum "$1" "$2" 8) $(qsum "$1" "$2" 6) $(qsum "$1" "$2" 7)"; }
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

DHCP4="$FIX/dhcpv4/udhcpc.pcap 0 dhcp4"   # udhcpc's DISCOVER
RS="$FIX/ipv6/kernel-rs.pcap 0 ra"
NS="$FIX/ipv6/ndisc6.pcap 0 na"
D6="$FIX/ipv6/dhclient6-info-request.pcap 0 dhcp6"
# The generator: in the VM namespace on eth0 (veth), or, for the tap
# topology below, attached to a tap in the host namespace as a VMM is.
GEN_NS=$V; GEN_IF=eth0
gen() { ip netns exec "$GEN_NS" "$BIN/examples/loadgen" "$GEN_IF" $1 "$2" "$3"; } # "$pcap idx kind" rate secs

# loadgen at max rate through queues $2..$3: prints "<replies/s> <verdicts/s> <kernel drops>".
blast() {
    local before after r
    before=$(qsnap "$2" "$3")
    r=$(gen "$1" 0 "$SECS")
    after=$(qsnap "$2" "$3")
    read -r q0 d0 u0 <<<"$before"; read -r q1 d1 u1 <<<"$after"
    echo "$(kv replies_per_s "$r") $(awk -v q=$((q1 - q0)) -v s="$(kv secs "$r")" 'BEGIN{printf "%.0f", q/s}') $((d1 - d0 + u1 - u0)) $(kv sent_per_s "$r")"
}

# loadgen paced at increasing rates: the highest rate at which >= 97.5 % of
# the requests are served: answered (mode replies) or given a verdict with
# no kernel drop (mode verdicts, the ceiling). A rate the generator itself
# cannot reach ends the search too (the log line shows which).
sustained() { # $1 = "pcap idx kind", $2 $3 = queues, $4 = replies|verdicts
    local best=0 r out sent got b a d0 u0 d1 u1
    for r in $SUST_RATES; do
        b=$(qsnap "$2" "$3"); out=$(gen "$1" "$r" "$SUST_SECS"); a=$(qsnap "$2" "$3")
        read -r _ d0 u0 <<<"$b"; read -r _ d1 u1 <<<"$a"
        sent=$(kv sent "$out")
        if [ "$4" = verdicts ]; then got=$((sent - (d1 - d0) - (u1 - u0))); else got=$(kv received "$out"); fi
        echo "  sustained $4 ${1##*/} at $r/s: sent=$sent served=$got rtt_p99_us=$(kv rtt_p99_us "$out")" >>"$OUT"
        awk -v s="$sent" -v g="$got" -v r="$r" -v t="$SUST_SECS" 'BEGIN{exit !(s >= 0.975*r*t && g >= 0.975*s)}' || break
        best=$r
    done
    echo "$best"
}

# perfdhcp at increasing rates: the best exchanges/s with drops <= 2.5 %.
# Single-thread mode (-g single) is its cheapest; its own CPU time (user +
# sys over wall, 1.00 = one core) and the DISCOVERs/s it managed to send
# show when perfdhcp, not the server, is the limit: the search also ends
# when it sends under 90 % of the rate asked. Each point also records the
# server process's CPU time per exchange ($1 = its pid; softirq work done
# in other processes' context is not in it) and the replies the VM's
# kernel dropped because perfdhcp's socket was full (UDP RcvbufErrors),
# i.e. lost at the generator, not at the server. Prints
# "best|description|server CPU µs per exchange at $PERF_CPU_RATE/s".
PERF_CPU_RATE=${PERF_CPU_RATE:-8000}
perfdhcp_best() {
    local best=0 bestline="none" r out sent recv drops acks pct rtt cpu disc t0 t1 e0 e1 m0 m1 mach us ref="?"
    for r in $PERF_RATES; do
        t0=$(cputicks "$1"); e0=$(rcvbuferrs); m0=$(cpustat)
        out=$( { TIMEFORMAT='cpu=%U+%S wall=%R'; time inv perfdhcp -4 -l eth0 -r "$r" -p "$PERF_SECS" -R 1 -g single -b mac=$MAC 192.0.2.1 2>&1 || true; } 2>&1)
        t1=$(cputicks "$1"); e1=$(rcvbuferrs); m1=$(cpustat)
        read -r sent drops acks disc <<<"$(perfdhcp_counts "$out" "$PERF_SECS")"
        mach=$(machine_us "$m0" "$m1" "$acks")
        cpu=$(sed -n 's/^cpu=\([0-9.]*\)+\([0-9.]*\) wall=\([0-9.]*\)$/\1 \2 \3/p' <<<"$out" | awk '{printf "%.2f", ($1 + $2) / $3}')
        recv=$(awk '/received packets:/ {s+=$3} END {print s+0}' <<<"$out")
        rtt=$(awk '/avg delay:/ {n++; if (n==2) printf "%s", $3}' <<<"$out")
        pct=$(awk -v d="$drops" -v s="$sent" 'BEGIN{printf "%.2f", s ? 100*d/s : 100}')
        us=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v a="$acks" 'BEGIN{printf "%.1f", a ? 1e6 * t / hz / a : 0}')
        [ "$r" = "$PERF_CPU_RATE" ] && ref=$us
        echo "  perfdhcp -r $r: sent=$sent received=$recv drops=$drops ($pct %) acks=$acks avg_rtt_ack=${rtt:-?}ms discovers_sent_per_s=$disc perfdhcp_cpu=${cpu:-?} server_cpu_us_per_exchange=$us machine_cpu_us_per_exchange=$mach vm_udp_rcvbuf_errors=$((e1 - e0))" >>"$OUT"
        if awk -v p="$pct" 'BEGIN{exit !(p <= 2.5)}' && [ "$acks" -gt 0 ]; then
            best=$(awk -v a="$acks" -v s="$PERF_SECS" 'BEGIN{printf "%.0f", a/s}')
            bestline="$r/s asked, $disc DISCOVERs/s sent, $pct % drops, avg RTT (REQUEST-ACK) ${rtt}ms, perfdhcp cpu ${cpu:-?}, server ${us} µs CPU per exchange, whole machine ${mach} µs"
            if awk -v d="$disc" -v r="$r" 'BEGIN{exit !(d < 0.9 * r)}'; then
                bestline="$bestline; generator-bound: perfdhcp sent under 90 % of the rate asked"
                break
            fi
        else
            bestline="$bestline; next rate $r/s: $pct % drops, $((e1 - e0)) replies dropped at perfdhcp's full socket"
            break
        fi
    done
    echo "$best|$bestline|$ref"
}

say "# nfdhcpd whole-path load bench, $(date -u +%FT%TZ)"
say "# $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
say "# loadgen ${SECS}s at max rate per point; perfdhcp ${PERF_SECS}s per rate, rates: $PERF_RATES"

# --- 1. ceiling: drop-only consumer ----------------------------------------
rules "--queue-num 42"
start_bg ip netns exec "$H" "$BIN/examples/drop_consumer" 42 45 "${DC_BATCH[@]}"; DC=$LAST; sleep 0.5
read -r _ C4 C4D C4S <<<"$(blast "$DHCP4" 42 42)"
read -r _ CRS CRSD _ <<<"$(blast "$RS" 43 43)"
read -r _ CNS CNSD _ <<<"$(blast "$NS" 44 44)"
S_C4=$(sustained "$DHCP4" 42 42 verdicts)
S_CRS=$(sustained "$RS" 43 43 verdicts)
S_CNS=$(sustained "$NS" 44 44 verdicts)
stop_bg "$DC"
say "ceiling  sustained (>= 97.5 % served, paced): dhcp4=$S_C4/s rs=$S_CRS/s ns=$S_CNS/s"
say "ceiling  dhcp4 verdicts/s=$C4 (kernel drops $C4D, offered $C4S/s)  rs=$CRS (drops $CRSD)  ns=$CNS (drops $CNSD)"

# --- 1b. reply ceiling: DROP plus a mirrored reply, no daemon work ----------
start_bg ip netns exec "$H" "$BIN/examples/drop_consumer" 42 45 "${DC_BATCH[@]}" --mirror; DC=$LAST; sleep 0.5
read -r M4 _ M4D _ <<<"$(blast "$DHCP4" 42 42)"
read -r MRS _ MRSD _ <<<"$(blast "$RS" 43 43)"
read -r MNS _ MNSD _ <<<"$(blast "$NS" 44 44)"
S_M4=$(sustained "$DHCP4" 42 42 replies)
S_MRS=$(sustained "$RS" 43 43 replies)
S_MNS=$(sustained "$NS" 44 44 replies)
stop_bg "$DC"
say "mirror   sustained (>= 97.5 % answered, paced): dhcp4=$S_M4/s ra=$S_MRS/s na=$S_MNS/s"
say "mirror   dhcp4 replies/s=$M4 (kernel drops $M4D)  ra=$MRS (drops $MRSD)  na=$MNS (drops $MNSD)"

# --- 2. nfdhcpd --------------------------------------------------------------
config 42
start_daemon "$TMP/nfdhcpd.log"
read -r N4 N4Q N4D N4S <<<"$(blast "$DHCP4" 42 42)"
read -r NRS _ NRSD _ <<<"$(blast "$RS" 43 43)"
read -r NNS _ NNSD _ <<<"$(blast "$NS" 44 44)"
read -r N6 _ N6D _ <<<"$(blast "$D6" 45 45)"
say "nfdhcpd  dhcp4 replies/s=$N4 (queued $N4Q/s, kernel drops $N4D, offered $N4S/s)  ra=$NRS (drops $NRSD)  na=$NNS (drops $NNSD)  dhcp6=$N6 (drops $N6D)"
S_N4=$(sustained "$DHCP4" 42 42 replies)
S_NRS=$(sustained "$RS" 43 43 replies)
S_NNS=$(sustained "$NS" 44 44 replies)
S_N6=$(sustained "$D6" 45 45 replies)
say "nfdhcpd  sustained (>= 97.5 % answered, paced): dhcp4=$S_N4/s ra=$S_NRS/s na=$S_NNS/s dhcp6=$S_N6/s"
T0=$(steal_ms); R1=$(gen "$DHCP4" 1000 3); ST1=$(( $(steal_ms) - T0 ))
say "nfdhcpd  dhcp4 round trip at 1000/s: p50=$(kv rtt_p50_us "$R1")us p99=$(kv rtt_p99_us "$R1")us max=$(kv rtt_max_us "$R1")us (sent $(kv sent "$R1"), replies $(kv received "$R1")); steal ${ST1} ms"
IFS='|' read -r NP NPL NPC <<<"$(perfdhcp_best "$ND")"
say "nfdhcpd  perfdhcp best exchanges/s=$NP ($NPL)"

# One binding changed under load: replies lost, time until in force. The
# load is 80 % of the sustained capacity just measured (at least 5,000/s),
# which the daemon answers in full, so a reply lost to the change would
# show; the same load without a change is the baseline. In force: when the
# first reply carries the new hostname (loadgen's LOADGEN_MARK), and when
# `status` shows it (polling, a process per try).
CHG_RATE=$(( S_N4 * 8 / 10 )); [ "$CHG_RATE" -ge 5000 ] || CHG_RATE=5000
BASE=$(gen "$DHCP4" "$CHG_RATE" 4)
LOADGEN_MARK=web2 start_bg gen "$DHCP4" "$CHG_RATE" 4 >"$TMP/lg.out"; LG=$LAST
sleep 1
T0=$(date +%s%N)
sed 's/^HOSTNAME=.*/HOSTNAME=web2/' "$TMP/bindings/tap-r" >"$TMP/bindings/.tap-r.tmp"
mv "$TMP/bindings/.tap-r.tmp" "$TMP/bindings/tap-r"
until inh "$BIN/nfdhcpd" status --json --socket "$TMP/control.sock" 2>/dev/null | grep -q '"web2"'; do :; done
T1=$(date +%s%N)
wait "$LG" || true
LGO=$(grep sent= "$TMP/lg.out" || true)
MARK=$(kv mark_first_unix_ns "$LGO")
say "nfdhcpd  binding changed under $CHG_RATE DISCOVER/s (80 % of sustained): first reply with it $(awk -v m="${MARK:-0}" -v t="$T0" 'BEGIN{if (m > 0) printf "%.1f ms", (m - t) / 1e6; else printf "never"}') after the rename, in status after <= $(( (T1 - T0) / 1000000 )) ms; sent=$(kv sent "$LGO") replies=$(kv received "$LGO") lost=$(( $(kv sent "$LGO") - $(kv received "$LGO") )) (same load, no change: lost=$(( $(kv sent "$BASE") - $(kv received "$BASE") )))"

# Killed (SIGKILL) under load with 10,001 bindings, then restarted: time from
# the restart to ready (status exits 0: queues bound, first scan published),
# to the first reply, RSS when ready, and the kernel queue left with nothing
# waiting. Requests sent while no daemon listens are dropped by the kernel
# (fail-closed), so the generator's losses are the outage itself.
for n in $(seq 0 9999); do
    printf 'MAC=aa:00:00:01:%02x:%02x\nIP=203.0.113.%d\nSUBNET=203.0.113.0/24\n' $((n >> 8)) $((n & 255)) $((1 + n % 250)) >"$TMP/bindings/c$n"
done
start_bg gen "$DHCP4" 5000 6 >"$TMP/lg.out"; LG=$LAST
sleep 1
kill -9 "$ND"; wait "$ND" 2>/dev/null || true
T0=$(date +%s%N)
start_bg ip netns exec "$H" "$BIN/nfdhcpd" -c "$TMP/nfdhcpd.conf" 2>"$TMP/nfdhcpd-restart.log"; ND=$LAST
until inh "$BIN/nfdhcpd" status --socket "$TMP/control.sock" >/dev/null 2>&1; do :; done
T1=$(date +%s%N)
RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$ND/status")
wait "$LG" || true
LGO=$(grep sent= "$TMP/lg.out" || true)
GAP=$(kv reply_gap_max_ms "$LGO")
sleep 0.2
WAITING=$(inh cat /proc/net/netfilter/nfnetlink_queue | awk '$1 == 42 {print $3}')
say "nfdhcpd  SIGKILL under 5000 DISCOVER/s with 10001 bindings, restarted: ready after $(( (T1 - T0) / 1000000 )) ms (status polling; process start included), RSS ${RSS} KiB; longest silence between replies ${GAP:-?} ms; sent=$(kv sent "$LGO") replies=$(kv received "$LGO"); queue_total afterwards $WAITING"
rm -f "$TMP"/bindings/c*
stop_bg "$ND"

# Multi-queue: two generators pinned to the two CPUs, --queue-cpu-fanout.
config 46:47
rules "--queue-balance 46:47 --queue-cpu-fanout"
inh ip6tables -t mangle -F PREROUTING
start_daemon "$TMP/nfdhcpd2.log"
two() { # $1 = queues first, $2 = last
    local b a
    b=$(qsnap "$1" "$2")
    inv taskset -c 0 "$BIN/examples/loadgen" eth0 $DHCP4 0 "$SECS" >"$TMP/g0" &
    local p0=$!
    inv taskset -c 1 "$BIN/examples/loadgen" eth0 $DHCP4 0 "$SECS" >"$TMP/g1" &
    local p1=$!
    wait $p0 $p1
    a=$(qsnap "$1" "$2")
    echo "$(( $(kv received "$(cat "$TMP/g0")") + $(kv received "$(cat "$TMP/g1")") )) $(kv secs "$(cat "$TMP/g0")")"
}
read -r M2 MS <<<"$(two 46 47)"
M2=$(awk -v n="$M2" -v s="$MS" 'BEGIN{printf "%.0f", n/s}')
stop_bg "$ND"
config 42
rules "--queue-num 42"
start_daemon "$TMP/nfdhcpd3.log"
read -r M1 MS <<<"$(two 42 42)"
M1=$(awk -v n="$M1" -v s="$MS" 'BEGIN{printf "%.0f", n/s}')
stop_bg "$ND"
say "nfdhcpd  dhcp4 two generators (one per CPU): one queue replies/s=$M1, --queue-balance 46:47 --queue-cpu-fanout replies/s=$M2 (x$(awk -v a="$M2" -v b="$M1" 'BEGIN{printf "%.2f", b ? a/b : 0}'))"

# --- 3. dnsmasq ---------------------------------------------------------------
norules
start_dnsmasq
D4=$(kv replies_per_s "$(gen "$DHCP4" 0 "$SECS")")
S_D4=$(sustained "$DHCP4" 42 42 replies)
T0=$(steal_ms); R2=$(gen "$DHCP4" 1000 3); ST2=$(( $(steal_ms) - T0 ))
say "dnsmasq  sustained (>= 97.5 % answered, paced): dhcp4=$S_D4/s"
say "dnsmasq  dhcp4 replies/s=$D4; round trip at 1000/s: p50=$(kv rtt_p50_us "$R2")us p99=$(kv rtt_p99_us "$R2")us (sent $(kv sent "$R2"), replies $(kv received "$R2")); steal ${ST2} ms"
IFS='|' read -r DP DPL DPC <<<"$(perfdhcp_best "$DQ")"
say "dnsmasq  perfdhcp best exchanges/s=$DP ($DPL)"
stop_bg "$DQ"

# --- 4. tap topology ------------------------------------------------------------
# A real tap, as a hypervisor has: the generator attaches to tap-t (host
# namespace) like a VMM, writes the requests into it and reads the replies
# from it; no VM network stack. Same binding, moved to tap-t.
inh ip tuntap add tap-t mode tap
inh ip link set tap-t address fe:00:00:00:00:02
inh ip link set tap-t up
rm "$TMP/bindings/tap-r"
fixture_binding tap-t
inh iptables -t mangle -F PREROUTING
inh iptables -t mangle -A PREROUTING -i tap-t -p udp --dport 67 -j NFQUEUE --queue-num 42
GEN_NS=$H; GEN_IF=tap:tap-t
start_bg ip netns exec "$H" "$BIN/examples/drop_consumer" 42 45 "${DC_BATCH[@]}"; DC=$LAST; sleep 0.5
read -r _ T_C4 T_C4D T_C4S <<<"$(blast "$DHCP4" 42 42)"
S_T_C4=$(sustained "$DHCP4" 42 42 verdicts)
stop_bg "$DC"
say "tap      ceiling dhcp4 sustained=$S_T_C4/s flat out verdicts/s=$T_C4 (kernel drops $T_C4D, offered $T_C4S/s)"
start_bg ip netns exec "$H" "$BIN/examples/drop_consumer" 42 45 "${DC_BATCH[@]}" --mirror; DC=$LAST; sleep 0.5
read -r T_M4 _ T_M4D _ <<<"$(blast "$DHCP4" 42 42)"
S_T_M4=$(sustained "$DHCP4" 42 42 replies)
stop_bg "$DC"
say "tap      mirror dhcp4 sustained=$S_T_M4/s flat out replies/s=$T_M4 (kernel drops $T_M4D)"
config 42
start_daemon "$TMP/nfdhcpd-tap.log"
read -r T_N4 _ T_N4D T_N4S <<<"$(blast "$DHCP4" 42 42)"
S_T_N4=$(sustained "$DHCP4" 42 42 replies)
T0=$(steal_ms); R3=$(gen "$DHCP4" 1000 3); ST3=$(( $(steal_ms) - T0 ))
stop_bg "$ND"
say "tap      nfdhcpd dhcp4 sustained=$S_T_N4/s flat out replies/s=$T_N4 (kernel drops $T_N4D, offered $T_N4S/s); round trip at 1000/s: p50=$(kv rtt_p50_us "$R3")us p99=$(kv rtt_p99_us "$R3")us; steal ${ST3} ms"
GEN_NS=$V; GEN_IF=eth0

# --- bindings -----------------------------------------------------------------
BL=$("$BIN/examples/bindings_load" 10000 20 | tr '\n' ' ')
say "bindings $BL"

# --- ratios -------------------------------------------------------------------
say "RATIOS tap: dhcp4 nfdhcpd/ceiling sustained=$(ratio "$S_T_N4" "$S_T_C4") flat out=$(ratio "$T_N4" "$T_C4")  nfdhcpd/mirror sustained=$(ratio "$S_T_N4" "$S_T_M4") flat out=$(ratio "$T_N4" "$T_M4")"
say "RATIOS mirror: nfdhcpd/mirror sustained dhcp4=$(ratio "$S_N4" "$S_M4") ra=$(ratio "$S_NRS" "$S_MRS") na=$(ratio "$S_NNS" "$S_MNS"); flat out dhcp4=$(ratio "$N4" "$M4") ra=$(ratio "$NRS" "$MRS") na=$(ratio "$NNS" "$MNS"); mirror/ceiling sustained dhcp4=$(ratio "$S_M4" "$S_C4") ra=$(ratio "$S_MRS" "$S_CRS") na=$(ratio "$S_MNS" "$S_CNS")"
say "RATIOS sustained: dhcp4 nfdhcpd/ceiling=$(ratio "$S_N4" "$S_C4") nfdhcpd/dnsmasq=$(ratio "$S_N4" "$S_D4")  ra/ceiling=$(ratio "$S_NRS" "$S_CRS") na/ceiling=$(ratio "$S_NNS" "$S_CNS")"
say "RATIOS flat out: dhcp4 loadgen: nfdhcpd/ceiling=$(ratio "$N4" "$C4") nfdhcpd/dnsmasq=$(ratio "$N4" "$D4")  perfdhcp: nfdhcpd/dnsmasq=$(ratio "$NP" "$DP") server CPU per exchange at ${PERF_CPU_RATE}/s dnsmasq/nfdhcpd=$(ratio "$DPC" "$NPC") ($DPC / $NPC µs)  ra/ceiling=$(ratio "$NRS" "$CRS") na/ceiling=$(ratio "$NNS" "$CNS")  two-queue/one-queue=$(ratio "$M2" "$M1")"
