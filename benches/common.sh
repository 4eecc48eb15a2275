# shellcheck shell=bash
# Shared by the bench scripts and the demo (.ci/demo), sourced first (with
# ROOT, the repository, set): cleanup of what they start, commands in the
# host namespace $H, the namespaces and veth links of a topology, the
# NFQUEUE rules, nfdhcpd's config, nfdhcpd started and waited for, and the
# kernel's per-queue counters. A bench script then calls bench_begin; the
# demo sets H, TMP and BIN itself.

# On exit: every process start_bg started is stopped, every namespace
# netns_add made is removed, and TMP with them.
PIDS=()
NAMESPACES=()
TMP=
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for n in "${NAMESPACES[@]}"; do ip netns del "$n" 2>/dev/null || true; done
    [ -z "$TMP" ] || rm -rf "$TMP"
}
trap cleanup EXIT

# The opening of a bench script, after its knobs: bench_begin COMMAND… [--
# CARGO_BUILD_ARGS…]. It needs root and each command ("command" or
# "command:package", the Debian package that has it); TMP is a new
# /tmp/nfdhcpd-NAME.XXXXXX (NAME: the script's), BIN the release build
# (CARGO_TARGET_DIR honoured), built with the arguments after "--" if any,
# FIX the test fixtures, and OUT (${OUT:-target/bench/NAME.txt}) is started
# empty once the build is done.
bench_begin() {
    NAME=$(basename "$0" .sh)
    [ "$(id -u)" = 0 ] || { echo "$NAME.sh: needs root" >&2; exit 1; }
    export PATH=$PATH:/usr/sbin:/sbin
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        command -v "${1%%:*}" >/dev/null ||
            { echo "$NAME.sh: ${1%%:*} missing (apt-get install -y ${1#*:})" >&2; exit 1; }
        shift
    done
    [ $# -eq 0 ] || shift
    TMP=$(mktemp -d "/tmp/nfdhcpd-$NAME.XXXXXX")
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
    FIX=$ROOT/tests/fixtures
    OUT=${OUT:-$ROOT/target/bench/$NAME.txt}
    [ $# -eq 0 ] || (cd "$ROOT" && cargo build --release "$@" >&2)
    mkdir -p "$(dirname "$OUT")"
    : >"$OUT"
}

inh() { ip netns exec "$H" "$@"; }
say() { echo "$*" | tee -a "$OUT"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b ? a/b : 0}'; }

start_bg() { "$@" & PIDS+=($!); LAST=$!; }
stop_bg() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
wait_ready() { # $1 = log
    for _ in $(seq 200); do
        inh "$BIN/nfdhcpd" status --socket "$TMP/control.sock" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "nfdhcpd not ready" >&2; cat "$1" >&2; exit 1
}
# Starts nfdhcpd with $TMP/nfdhcpd.conf (pid in ND) logging to $1, and waits
# until it is ready.
start_daemon() {
    start_bg ip netns exec "$H" "$BIN/nfdhcpd" -c "$TMP/nfdhcpd.conf" 2>"$1"
    # shellcheck disable=SC2034 # for the scripts that source this file
    ND=$LAST
    wait_ready "$1"
}

# --- topology ---------------------------------------------------------------
# Namespaces $@, each with lo up and IPv6 DAD off (or link-locals stay
# tentative ~2 s); removed on exit.
netns_add() {
    for n in "$@"; do
        NAMESPACES+=("$n")
        ip netns add "$n"
        ip -n "$n" link set lo up
        ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    done
}
# VM namespace $1 linked to $H by a veth, both ends up: the host end is tap
# $2 (with MAC $5 if given), the VM end eth0 with MAC $3 and accept_ra $4
# (0: the VM ignores RAs and sends no Router Solicitation of its own).
veth_vm() {
    inh ip link add "$2" ${5:+address "$5"} type veth peer name eth0 address "$3" netns "$1"
    inh ip link set "$2" up
    ip netns exec "$1" sysctl -qw "net.ipv6.conf.eth0.accept_ra=$4"
    ip -n "$1" link set eth0 up
}

# The MAC of the fixtures' routed binding (tests/fixtures/compat/bindings/
# tap-routed: 192.0.2.10 in 192.0.2.0/24, gateway 192.0.2.1).
MAC=aa:00:00:00:00:10
# That binding, as tap $1's, in $TMP/bindings.
fixture_binding() {
    mkdir -p "$TMP/bindings"
    sed "s/^INDEV=.*/INDEV=$1/" "$FIX/compat/bindings/tap-routed" >"$TMP/bindings/$1"
}

# The original's NFQUEUE rules in $H for the packets of the taps $1 matches
# ("-i tap-r", "-m physdev --physdev-in tap-b"): DHCPv4 to queue 42 (or the
# NFQUEUE options $2), Router and Neighbour Solicitations to 43 and 44,
# DHCPv6 to 45.
queue_rules() {
    # shellcheck disable=SC2086 # $1 and $2 are lists of options
    {
        inh iptables -t mangle -A PREROUTING $1 -p udp --dport 67 -j NFQUEUE ${2:---queue-num 42}
        inh ip6tables -t mangle -A PREROUTING $1 -p icmpv6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 43
        inh ip6tables -t mangle -A PREROUTING $1 -p icmpv6 --icmpv6-type neighbour-solicitation -j NFQUEUE --queue-num 44
        inh ip6tables -t mangle -A PREROUTING $1 -p udp --dport 547 -j NFQUEUE --queue-num 45
    }
}

# nfdhcpd's config, $TMP/nfdhcpd.conf: the bindings in $TMP/bindings, the
# control socket in $TMP, DHCPv4 from 192.0.2.1 on queue $1 with the
# documentation DNS, then the lines given after it (the [ipv6] section,
# [limits] …); IPV6_QUEUES and IPV6_DNS are the usual [ipv6] lines.
# shellcheck disable=SC2034 # used by the scripts that source this file
IPV6_QUEUES=("[ipv6]" "rs_queue = 43" "ns_queue = 44" "dhcpv6_queue = 45")
# shellcheck disable=SC2034
IPV6_DNS=("nameservers = 2001:db8:53::1" "domains = vm.example.org")
daemon_config() {
    local q=$1
    shift
    {
        cat <<EOF
[general]
datapath = $TMP/bindings
control_socket = $TMP/control.sock
${RECV_BATCH:+recv_batch = $RECV_BATCH}
${QUEUE_SPIN_US:+queue_spin_us = $QUEUE_SPIN_US}
${QUEUE_NAP_US:+queue_nap_us = $QUEUE_NAP_US}
[dhcp]
server_ip = 192.0.2.1
dhcp_queue = $q
nameservers = 192.0.2.53, 198.51.100.53
domain = vm.example.org
EOF
        printf '%s\n' "$@"
    } >"$TMP/nfdhcpd.conf"
}

# Sum over queues $1..$2 of one column of /proc/net/netfilter/nfnetlink_queue
# (6 queue_dropped, 7 user_dropped, 8 id sequence = packets queued).
qsum() { inh cat /proc/net/netfilter/nfnetlink_queue | awk -v a="$1" -v b="$2" -v c="$3" '$1>=a && $1<=b {s+=$c} END {print s+0}'; }

# --- whole-machine CPU without the guest's /proc/stat -------------------------
# On this VM /proc/stat misses CPU time (it once read less than the load
# generator's own CPU over the same seconds). Instead: one SCHED_IDLE
# spinner per CPU, which runs only when nothing else wants that CPU; the
# machine's busy time over an interval is wall time × CPUs less what the
# spinners got, by the scheduler's per-task accounting (the one the
# per-process figures use). Caveats: a SCHED_IDLE task still gets ~0.3 %
# of a CPU another task wants (weight 3 against 1024), and the CPUs never
# enter an idle state while it runs (no wake-up from idle: for both servers).
spin_start() {
    SPINNERS=()
    local c
    for c in $(seq 0 $(($(nproc) - 1))); do
        chrt -i 0 taskset -c "$c" sh -c 'while :; do :; done' &
        SPINNERS+=("$!"); PIDS+=("$!")
    done
}
spin_ticks() { local t=0 p; for p in "${SPINNERS[@]}"; do t=$((t + $(cputicks "$p"))); done; echo "$t"; }
spin_stop() {
    local p
    for p in "${SPINNERS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${SPINNERS[@]}"; do wait "$p" 2>/dev/null || true; done
    SPINNERS=()
}
# Busy CPU µs per exchange: $1 $2 wall clock (ns), $3 $4 spinner ticks, $5 exchanges.
busy_us() {
    awk -v w=$(($2 - $1)) -v s=$(($4 - $3)) -v a="$5" -v n="$(nproc)" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { b = w / 1000 * n - s * 1e6 / hz; printf "%.1f", a ? (b > 0 ? b : 0) / a : 0 }'
}

# CPU time the hypervisor has taken from this machine so far (steal, all
# CPUs, ms): round-trip tails follow it, so the bench prints it next to them.
steal_ms() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.0f", $9 * 1000 / hz}' /proc/stat; }

# --- the veth topology of load.sh and vs_dnsmasq.sh (needs V) ---------------
# A host namespace $H with tap-r (host end of a veth, 192.0.2.1/24) and a
# VM namespace $V with eth0 (the binding's MAC, 192.0.2.10/24: perfdhcp's
# relay address, giaddr).
inv() { ip netns exec "$V" "$@"; }
veth_topology() {
    netns_add "$H" "$V"
    veth_vm "$V" tap-r "$MAC" 0 fe:00:00:00:00:01
    inh ip addr add 192.0.2.1/24 dev tap-r
    inv ip addr add 192.0.2.10/24 dev eth0
    # loadgen reads replies on a packet socket, which sees them before IP
    # does; without these rules the VM's kernel would also answer every
    # unicast OFFER/Reply to its client port with an ICMP port unreachable
    # (no UDP socket there), work charged to whoever sent the reply (nfdhcpd
    # or dnsmasq) that a real guest's client, bound to the port, does not
    # cause. perfdhcp, a relay, gets its replies on port 67.
    inv iptables -t raw -A PREROUTING -p udp --dport 68 -j DROP
    inv ip6tables -t raw -A PREROUTING -p udp --dport 546 -j DROP
}

# dnsmasq answering the VM on tap-r from a static dhcp-host entry, with the
# DNS options nfdhcpd's config gives (pid in DQ). The static range on the
# relay's subnet lets it answer perfdhcp's relayed requests (giaddr
# 192.0.2.10) from the same entry; --no-ping and --quiet-dhcp remove work
# nfdhcpd does not do either.
start_dnsmasq() {
    start_bg ip netns exec "$H" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface=tap-r --bind-interfaces \
        --pid-file="$TMP/dnsmasq.pid" --dhcp-leasefile="$TMP/dnsmasq.leases" --log-facility="$TMP/dnsmasq.log" \
        --dhcp-range=192.0.2.0,static,255.255.255.0,12h --dhcp-host="$MAC",192.0.2.10 --dhcp-authoritative \
        --no-ping --quiet-dhcp --dhcp-option=option:dns-server,192.0.2.53,198.51.100.53 --domain=vm.example.org
    # shellcheck disable=SC2034 # for the scripts that source this file
    DQ=$LAST
    sleep 0.5
}

# perfdhcp's output $1 of a run of $2 seconds, in figures: "sent drops acks
# discovers_per_s" (sent and drops over both exchanges, acks the packets
# the second, REQUEST-ACK, received; 0 for what it did not print).
perfdhcp_counts() {
    awk -v secs="$2" '/sent packets:/ {n++; s += $3; if (n == 1) d = $3} /^ *drops:/ {dr += $2}
        /received packets:/ {m++; if (m == 2) a = $3}
        END {printf "%d %d %d %.0f\n", s, dr, a, secs ? d / secs : 0}' <<<"$1"
}
# A perf.data summary ($1) under a title ($2): each process's share of the
# samples, then the heaviest symbols with their process (kernel included).
profile_summary() {
    echo "  profile $2 ($1): samples by process"
    perf report -i "$1" --no-children --sort comm --stdio -q -g none 2>/dev/null | awk 'NF {print "    " $0}' | head -8
    echo "  profile $2: heaviest symbols (idle left out)"
    perf report -i "$1" --no-children --sort comm,sym --stdio -q -g none 2>/dev/null |
        awk 'NF && $2 != "swapper" {print "    " $0}' | head -40
}
# CPU ticks (user + system) of process $1.
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# UDP receive-buffer overflows in the VM namespace so far: replies the VM's
# kernel dropped because the generator's socket was full.
rcvbuferrs() { inv cat /proc/net/snmp | awk '/^Udp:/ {if (!h) {for (i = 1; i <= NF; i++) c[$i] = i; h = 1} else print $c["RcvbufErrors"]}'; }
# /proc/stat, all CPUs: "user+nice system irq+softirq idle+iowait steal" in ticks.
cpustat() { awk '/^cpu / {print $2 + $3, $4, $7 + $8, $5 + $6, $9}' /proc/stat; }
# Whole-machine CPU µs per exchange (user, system and irq + softirq of all
# CPUs) between two cpustat readings $1 $2, for $3 exchanges.
machine_us() {
    awk -v a="$3" -v hz="$(getconf CLK_TCK)" -v s0="$1" -v s1="$2" 'BEGIN {
        split(s0, x); split(s1, y); us = a ? 1e6 / hz / a : 0
        printf "%.1f", (y[1] - x[1] + y[2] - x[2] + y[3] - x[3]) * us }'
}
