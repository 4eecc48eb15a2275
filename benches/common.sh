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
