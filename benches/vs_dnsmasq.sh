#!/usr/bin/env bash
# nfdhcpd against dnsmasq under perfdhcp, side by side (root, ~8 min with
# the defaults): both servers run at once on the same veth topology as
# load.sh, and the NFQUEUE rule is toggled to pick which one answers (with
# the rule, nfdhcpd answers and drops the request before dnsmasq's socket
# sees it; without it, dnsmasq answers). $RUNS interleaved runs; each run
# measures, for each server in turn (order alternating between runs):
#   - whole-machine CPU per exchange at the fixed rates $FIXED_RATES,
#     divided by the ACKs perfdhcp received: machine_us (user + nice,
#     system, irq + softirq over all CPUs from /proc/stat, with the split)
#     and, with SPIN=1, busy_us (wall time × CPUs less what an idle-priority
#     spinner per CPU got: see spin_start in common.sh; on a VM whose
#     /proc/stat misses time; the spinners slow the measured processes,
#     and /proc/stat then counts them); with the server process's and
#     perfdhcp's own share, and the VM's UDP RcvbufErrors (replies lost at
#     perfdhcp's full socket);
#   - the perfdhcp sweep: the highest rate with drops <= 2.5 %, in single-
#     and multi-thread mode (-g single, -g multi).
# Prints the ratios nfdhcpd / dnsmasq of each run. Writes
# ${OUT:-target/bench/vs_dnsmasq.txt}. Knobs: RUNS, FIXED_SECS, FIXED_RATES,
# PERF_SECS, PERF_RATES, MODES, SPIN, QUEUE_SPIN_US and QUEUE_NAP_US
# (the daemon's [general] queue_spin_us, queue_nap_us), CONNTRACK (1: conntrack on in the host
# namespace), NOTRACK (1: with it, a raw notrack rule for udp/67), PIN
# (1: perfdhcp on CPU 0, the servers on CPU 1), RPS (1: receive packet
# steering of tap-r's requests to CPU 1, so their netfilter and queue
# work leaves the sender's CPU), PROFILE (1: `perf record -e cpu-clock
# -a -g` over each fixed-rate point, the data kept beside $OUT and a
# summary by process and by kernel symbol printed into it; perf's own
# cost is in that point's CPU figures, so read them from a run without
# it). Only documentation addresses, only inside the
# namespaces it creates; everything it starts is stopped.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
FIXED_SECS=${FIXED_SECS:-5}
FIXED_RATES=${FIXED_RATES:-"4000 8000"}
PERF_SECS=${PERF_SECS:-3}
PERF_RATES=${PERF_RATES:-"4000 6000 8000 10000 12000 14000 16000 18000 20000 24000 28000 32000 36000 40000"}
MODES=${MODES:-"single multi"}
SPIN=${SPIN:-0} # 1: whole-machine CPU by idle spinners too (see spin_start in common.sh)
PROFILE=${PROFILE:-0} # 1: a whole-machine profile of each fixed-rate point
CONNTRACK=${CONNTRACK:-0} # 1: connection tracking on in the host namespace, as on a stateful host
NOTRACK=${NOTRACK:-0} # 1: and a raw-table notrack rule for the DHCP requests
PIN=${PIN:-0} # 1: perfdhcp on CPU 0, each server (all its threads) on CPU 1
RPS=${RPS:-0} # 1: the requests' receive processing on CPU 1 (RPS on tap-r)
H=nfv$$h
V=nfv$$v
# shellcheck source=benches/common.sh
. "$ROOT/benches/common.sh"
bench_begin perfdhcp:kea-admin dnsmasq:dnsmasq-base iptables ip:iproute2 chrt:util-linux taskset:util-linux -- --bin nfdhcpd
[ "$PROFILE" = 1 ] && { command -v perf >/dev/null || { echo "vs_dnsmasq.sh: perf missing (apt-get install -y linux-perf)" >&2; exit 1; }; }

veth_topology
daemon_config 42 "[ipv6]" "enable_ipv6 = no" "[limits]" "rate = 0"
fixture_binding tap-r

start_daemon "$TMP/nfdhcpd.log"
start_dnsmasq
if [ "$PIN" = 1 ]; then
    taskset -a -p -c 1 "$ND" >/dev/null
    taskset -a -p -c 1 "$DQ" >/dev/null
fi
# perfdhcp in the VM namespace (on CPU 0 with PIN=1).
[ "$RPS" = 1 ] && inh sh -c 'echo 2 > /sys/class/net/tap-r/queues/rx-0/rps_cpus'
gen() { if [ "$PIN" = 1 ]; then inv taskset -c 0 "$@"; else inv "$@"; fi; }
pid_of() { if [ "$1" = nfdhcpd ]; then echo "$ND"; else echo "$DQ"; fi; }
if [ "$CONNTRACK" = 1 ]; then
    # A typical stateful host rule: it turns conntrack on for every packet
    # of the namespace (hooks are registered only when a rule needs them).
    inh iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
    [ "$NOTRACK" = 1 ] && inh iptables -t raw -A PREROUTING -i tap-r -p udp --dport 67 -j CT --notrack
fi
pick() { # $1 = the server that answers
    inh iptables -t mangle -F PREROUTING
    [ "$1" = nfdhcpd ] && inh iptables -t mangle -A PREROUTING -i tap-r -p udp --dport 67 -j NFQUEUE --queue-num 42
    sleep 0.2
}

# One fixed-rate point: perfdhcp at $2/s for $FIXED_SECS s against server $1.
fixed() {
    local pid s0 s1 p0 p1 e0 e1 out acks sent drops w0 w1 k0 k1
    pid=$(pid_of "$1")
    [ "$SPIN" = 1 ] && { spin_start; sleep 0.2; }
    local prof="${OUT%.txt}-$1-$2-$run.perf"
    [ "$PROFILE" = 1 ] && { start_bg perf record -q -e cpu-clock -a -g -o "$prof" -- sleep "$((FIXED_SECS + 1))"; PERFPID=$LAST; }
    s0=$(cpustat); p0=$(cputicks "$pid"); e0=$(rcvbuferrs); k0=$(spin_ticks); w0=$(date +%s%N)
    out=$( { TIMEFORMAT='cpu=%U+%S wall=%R'; time gen perfdhcp -4 -l eth0 -r "$2" -p "$FIXED_SECS" -R 1 -g single -b mac=$MAC 192.0.2.1 2>&1 || true; } 2>&1)
    w1=$(date +%s%N); k1=$(spin_ticks); s1=$(cpustat); p1=$(cputicks "$pid"); e1=$(rcvbuferrs)
    [ "$SPIN" = 1 ] && spin_stop
    [ "$PROFILE" = 1 ] && { wait "$PERFPID" 2>/dev/null || true; profile_summary "$prof" "$1 $2/s run $run" >>"$OUT"; }
    read -r sent drops acks _ <<<"$(perfdhcp_counts "$out" "$FIXED_SECS")"
    awk -v srv="$1" -v r="$2" -v a="$acks" -v hz="$(getconf CLK_TCK)" -v s0="$s0" -v s1="$s1" \
        -v busy="$([ "$SPIN" = 1 ] && busy_us "$w0" "$w1" "$k0" "$k1" "$acks" || echo -)" \
        -v p=$((p1 - p0)) -v gen="$(sed -n 's/^cpu=\([0-9.]*\)+\([0-9.]*\) wall=.*/\1 \2/p' <<<"$out")" \
        -v e=$((e1 - e0)) -v sent="$sent" -v drops="$drops" 'BEGIN {
        split(s0, x); split(s1, y); split(gen, g)
        us = a ? 1e6 / hz / a : 0
        usr = (y[1] - x[1]) * us; sys = (y[2] - x[2]) * us; irq = (y[3] - x[3]) * us
        printf "fixed %s %d/s: acks=%d drops=%d/%d busy_us_per_exchange=%s machine_us_per_exchange=%.1f (user %.1f, system %.1f, irq+softirq %.1f) server_us=%.1f perfdhcp_us=%.1f steal_ticks=%d vm_udp_rcvbuf_errors=%d\n",
            srv, r, a, drops, sent, busy, usr + sys + irq, usr, sys, irq, p * us, a ? (g[1] + g[2]) * 1e6 / a : 0, y[5] - x[5], e }'
}

# The perfdhcp sweep against server $1 in thread mode $2: the highest ACK
# rate with drops <= 2.5 %; stops at the first rate over 2.5 % or when
# perfdhcp sends under 90 % of the rate asked (generator-bound).
sweep() {
    local best=0 note="every rate tried passed" r out sent drops acks disc pct e0 e1
    for r in $PERF_RATES; do
        e0=$(rcvbuferrs)
        out=$(gen perfdhcp -4 -l eth0 -r "$r" -p "$PERF_SECS" -R 1 -g "$2" -b mac=$MAC 192.0.2.1 2>&1 || true)
        e1=$(rcvbuferrs)
        read -r sent drops acks disc <<<"$(perfdhcp_counts "$out" "$PERF_SECS")"
        pct=$(awk -v d="$drops" -v s="$sent" 'BEGIN{printf "%.2f", s ? 100*d/s : 100}')
        echo "  sweep $1 -g $2 -r $r: sent=$sent drops=$drops ($pct %) acks=$acks discovers_sent_per_s=$disc vm_udp_rcvbuf_errors=$((e1 - e0))" >>"$OUT"
        awk -v p="$pct" 'BEGIN{exit !(p <= 2.5)}' && [ "$acks" -gt 0 ] || { note="next rate $r/s: $pct % drops, rcvbuf errors $((e1 - e0))"; break; }
        best=$(awk -v a="$acks" -v s="$PERF_SECS" 'BEGIN{printf "%.0f", a/s}')
        if awk -v d="$disc" -v r="$r" 'BEGIN{exit !(d < 0.9 * r)}'; then note="generator-bound at $r/s"; break; fi
    done
    echo "$best ($note)"
}

say "# nfdhcpd vs dnsmasq under perfdhcp, $(date -u +%FT%TZ); $(nproc) cores, $(uname -r)"
say "# both servers running; the NFQUEUE rule picks nfdhcpd; $RUNS interleaved runs"
for run in $(seq "$RUNS"); do
    if [ $((run % 2)) = 1 ]; then order="nfdhcpd dnsmasq"; else order="dnsmasq nfdhcpd"; fi
    declare -A M=() B=() U=()
    for srv in $order; do
        pick "$srv"
        for r in $FIXED_RATES; do
            line=$(fixed "$srv" "$r"); say "run $run $line"
            M[$srv$r]=$(sed -n 's/.*machine_us_per_exchange=\([0-9.]*\).*/\1/p' <<<"$line")
            U[$srv$r]=$(sed -n 's/.*busy_us_per_exchange=\([0-9.]*\).*/\1/p' <<<"$line")
        done
        for m in $MODES; do
            B[$srv$m]=$(sweep "$srv" "$m"); say "run $run sweep $srv -g $m: best ${B[$srv$m]} ACKs/s"
        done
    done
    for r in $FIXED_RATES; do
        [ "$SPIN" = 1 ] && say "RATIO run $run busy CPU per exchange (idle spinners) at $r/s nfdhcpd/dnsmasq=$(ratio "${U[nfdhcpd$r]}" "${U[dnsmasq$r]}")"
        say "RATIO run $run machine CPU per exchange (/proc/stat) at $r/s nfdhcpd/dnsmasq=$(ratio "${M[nfdhcpd$r]}" "${M[dnsmasq$r]}")"
    done
    for m in $MODES; do
        say "RATIO run $run perfdhcp -g $m best nfdhcpd/dnsmasq=$(ratio "${B[nfdhcpd$m]%% *}" "${B[dnsmasq$m]%% *}")"
    done
    unset M B U
done
