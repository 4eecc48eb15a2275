# Shared by the bench scripts, sourced once they have set BIN, OUT, TMP, H
# (the host namespace) and NAMESPACES (every namespace they create):
# cleanup of what they start, commands in the host namespace, nfdhcpd
# started and waited for, and the kernel's per-queue counters.

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for n in "${NAMESPACES[@]}"; do ip netns del "$n" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

inh() { ip netns exec "$H" "$@"; }
say() { echo "$*" | tee -a "$OUT"; }

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
    start_bg ip netns exec "$H" "$BIN/nfdhcpd" -c "$TMP/nfdhcpd.conf" 2>"$1"; ND=$LAST
    wait_ready "$1"
}

# Sum over queues $1..$2 of one column of /proc/net/netfilter/nfnetlink_queue
# (6 queue_dropped, 7 user_dropped, 8 id sequence = packets queued).
qsum() { inh cat /proc/net/netfilter/nfnetlink_queue | awk -v a="$1" -v b="$2" -v c="$3" '$1>=a && $1<=b {s+=$c} END {print s+0}'; }

# CPU time the hypervisor has taken from this machine so far (steal, all
# CPUs, ms): round-trip tails follow it, so the bench prints it next to them.
steal_ms() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.0f", $9 * 1000 / hz}' /proc/stat; }

# --- the veth topology of load.sh and vs_dnsmasq.sh (needs V, MAC) ----------
# A host namespace $H with tap-r (host end of a veth, 192.0.2.1/24) and a
# VM namespace $V with eth0 (the binding's MAC, 192.0.2.10/24: perfdhcp's
# relay address, giaddr).
inv() { ip netns exec "$V" "$@"; }
veth_topology() {
    ip netns add "$H"; ip netns add "$V"
    inh ip link set lo up; inv ip link set lo up
    inv sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    inh sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    inh ip link add tap-r type veth peer name eth0 netns "$V"
    inh ip link set tap-r address fe:00:00:00:00:01
    inh ip link set tap-r up
    inh ip addr add 192.0.2.1/24 dev tap-r
    inv ip link set eth0 address "$MAC"
    inv sysctl -qw net.ipv6.conf.eth0.accept_ra=0 2>/dev/null || true
    inv ip link set eth0 up
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
    DQ=$LAST; sleep 0.5
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
