//! The optional Prometheus endpoint (`[metrics] listen`, off by default):
//! `GET /metrics` on a small HTTP/1.0 server on the daemon's tokio runtime.
//!
//! Everything is read at scrape time: the worker counters of [`Metrics`],
//! the binding table (bindings by state), the link monitor's [`Health`]
//! and the kernel's per-queue counters from `/proc/net/netfilter/nfnetlink_queue` (of the daemon's
//! network namespace). Encoding is prometheus-client's OpenMetrics text.

use std::collections::BTreeMap;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::debug;

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::datapath::tap::Table;
use crate::domain::Protocol;
use crate::link::Health;
use crate::metrics::{Labelled, Metrics};
use crate::observe::control::LinkMonitorStatus;

/// Where the kernel publishes its per-queue counters.
pub const NFQUEUE_PROC: &str = "/proc/net/netfilter/nfnetlink_queue";

/// One line of `/proc/net/netfilter/nfnetlink_queue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelQueue {
    /// Queue number.
    pub queue: u16,
    /// Packets waiting for a verdict.
    pub waiting: u64,
    /// Dropped by the kernel: queue full.
    pub queue_dropped: u64,
    /// Dropped by the kernel: socket buffer full.
    pub user_dropped: u64,
}

/// Parses the kernel's table (queue, portid, total, mode, range, queue_dropped, user_dropped, id, 1).
pub fn parse_kernel_queues(text: &str) -> Vec<KernelQueue> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?;
            if f.len() < 7 {
                return None;
            }
            Some(KernelQueue {
                queue: u16::try_from(f[0]).ok()?,
                waiting: f[2],
                queue_dropped: f[5],
                user_dropped: f[6],
            })
        })
        .collect()
}

/// The scrape-time collector.
#[derive(Debug)]
pub struct DaemonCollector {
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Bindings.
    pub table: Arc<Table>,
    /// The link monitor's health.
    pub links: Arc<Health>,
    /// The config in force (`[metrics] per_tap`).
    pub config: Arc<ArcSwap<Config>>,
}

type Labels<'a> = Vec<(&'static str, &'a str)>;

fn counters(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels<'_>, u64)],
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in rows {
        ConstCounter::new(*v).encode(m.encode_family(labels)?)?;
    }
    Ok(())
}

fn gauges(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels<'_>, i64)],
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in rows {
        ConstGauge::new(*v).encode(m.encode_family(labels)?)?;
    }
    Ok(())
}

impl DaemonCollector {
    fn protocol_counters(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let m = &self.metrics;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        let queues = m.queues();
        let qnames: Vec<String> = queues.iter().map(|q| q.queue.to_string()).collect();
        let rows: Vec<_> = queues
            .iter()
            .zip(&qnames)
            .map(|(q, n)| {
                (
                    vec![("queue", n.as_str()), ("protocol", q.protocol.as_str())],
                    load(&q.received),
                )
            })
            .collect();
        counters(
            enc,
            "packets_received",
            "Packets received from each queue.",
            &rows,
        )?;
        let (mut replies, mut handled, mut drops, mut ignored, mut send_err, mut verdict_err) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut calls, mut spins, mut naps) = (vec![], vec![], vec![]);
        for p in Protocol::ALL {
            let c = m.proto(p);
            let proto = ("protocol", p.as_str());
            calls.push((vec![proto], load(&c.receive_calls)));
            spins.push((vec![proto], load(&c.spins)));
            naps.push((vec![proto], load(&c.naps)));
            ignored.push((vec![proto, ("reason", "not_ours")], load(&c.not_ours)));
            send_err.push((vec![proto], load(&c.send_errors)));
            verdict_err.push((vec![proto], load(&c.verdict_errors)));
            // Impossible series (an RA counted for DHCPv4) stay out.
            m.for_each_labelled(p, |l, v| {
                if !l.applies_to(p) {
                    return;
                }
                let row = match l {
                    Labelled::Reply(_) => (&mut replies, "type"),
                    Labelled::Consumed(_) => (&mut handled, "type"),
                    Labelled::Drop(_) => (&mut drops, "reason"),
                };
                row.0.push((vec![proto, (row.1, l.label())], v));
            });
        }
        counters(
            enc,
            "queue_receive_calls",
            "System calls that received queue messages (up to recv_batch each).",
            &calls,
        )?;
        counters(
            enc,
            "queue_spins",
            "Times a worker spun on its drained queue before sleeping (queue_spin_us).",
            &spins,
        )?;
        counters(
            enc,
            "queue_naps",
            "Times a busy worker napped on a timer instead of sleeping on its queue (queue_nap_us).",
            &naps,
        )?;
        counters(
            enc,
            "replies_sent",
            "Replies sent, by protocol and message type.",
            &replies,
        )?;
        counters(
            enc,
            "requests_handled_without_reply",
            "Requests handled without a reply (release, decline), by protocol and message type.",
            &handled,
        )?;
        counters(
            enc,
            "packets_dropped",
            "Packets dropped (verdict DROP, no reply), by protocol and reason.",
            &drops,
        )?;
        counters(
            enc,
            "packets_ignored",
            "Packets accepted untouched (not from a tap we serve), by protocol and reason.",
            &ignored,
        )?;
        counters(
            enc,
            "send_errors",
            "Replies that could not be sent.",
            &send_err,
        )?;
        counters(
            enc,
            "verdict_errors",
            "Verdicts that could not be given.",
            &verdict_err,
        )?;
        counters(
            enc,
            "periodic_ra_sent",
            "Unsolicited Router Advertisements sent.",
            &[(vec![], load(&m.periodic_ra))],
        )?;
        counters(
            enc,
            "periodic_ra_errors",
            "Unsolicited Router Advertisements that could not be sent.",
            &[(vec![], load(&m.periodic_ra_errors))],
        )?;
        counters(
            enc,
            "reloads",
            "Configuration reloads (SIGHUP).",
            &[(vec![], load(&m.reloads))],
        )?;
        counters(
            enc,
            "reload_errors",
            "Reloads whose new configuration was invalid (the old one stays).",
            &[(vec![], load(&m.reload_errors))],
        )
    }

    fn bindings(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snap = self.table.load();
        let mut by: BTreeMap<&'static str, i64> =
            ["active", "tap_missing", "indev_missing", "invalid"]
                .into_iter()
                .map(|s| (s, 0))
                .collect();
        for e in &snap.entries {
            *by.entry(e.state.label()).or_default() += 1;
        }
        let rows: Vec<_> = by
            .into_iter()
            .map(|(s, n)| (vec![("state", s)], n))
            .collect();
        gauges(enc, "bindings", "Binding files by state.", &rows)
    }

    fn link_monitor(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let l = LinkMonitorStatus::of(&self.links);
        gauges(
            enc,
            "link_monitor_following",
            "1 while the link monitor follows link events after a good dump; 0 while it (re)starts or waits to retry: taps appearing or vanishing are not seen then.",
            &[(vec![], i64::from(l.following))],
        )?;
        counters(
            enc,
            "link_monitor_resyncs",
            "Full link dumps after the first (lost events, broken stream, failures).",
            &[(vec![], l.resyncs)],
        )?;
        counters(
            enc,
            "link_monitor_overruns",
            "Netlink receive buffer overruns: link events lost, each followed by a full dump.",
            &[(vec![], l.overruns)],
        )?;
        counters(
            enc,
            "link_monitor_errors",
            "Failures of the link monitor to open, bind or dump (each retried with backoff).",
            &[(vec![], l.errors)],
        )
    }

    fn latency(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.metrics.latency.snapshot();
        let mut m = enc.encode_descriptor(
            "reply_latency_seconds",
            "Time from receiving a queued packet to its decision being carried out (reply sent; the verdict may follow in a run).",
            None,
            MetricType::Histogram,
        )?;
        m.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    /// `[metrics] per_tap`: per active tap and protocol, the times (Unix
    /// seconds) of the last request, reply and drop, and the packets the
    /// rate limit dropped.
    fn per_tap(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snap = self.table.load();
        let (now_ns, now_ms) = (
            crate::datapath::ratelimit::now_ns(),
            crate::datapath::lastseen::unix_ms_now(),
        );
        let mut taps: Vec<_> = snap
            .by_ifindex
            .values()
            .map(|s| (s, s.seen.report(now_ns, now_ms)))
            .collect();
        taps.sort_by(|a, b| a.0.binding.tap.cmp(&b.0.binding.tap));
        let (mut req, mut rep, mut drop, mut limited) = (vec![], vec![], vec![], vec![]);
        let secs = |ms: u64| i64::try_from(ms / 1000).unwrap_or(i64::MAX);
        for (s, seen) in &taps {
            let tap = ("tap", s.binding.tap.as_str());
            for p in Protocol::ALL {
                limited.push((vec![tap, ("protocol", p.as_str())], s.limiter.dropped(p)));
            }
            for l in seen {
                let labels = vec![tap, ("protocol", l.protocol.as_str())];
                for (rows, at) in [
                    (&mut req, l.request_unix_ms),
                    (&mut rep, l.reply_unix_ms),
                    (&mut drop, l.drop_unix_ms),
                ] {
                    rows.extend(at.map(|ms| (labels.clone(), secs(ms))));
                }
            }
        }
        gauges(
            enc,
            "tap_last_request_timestamp_seconds",
            "Per tap and protocol: when the last request came (Unix time).",
            &req,
        )?;
        gauges(
            enc,
            "tap_last_reply_timestamp_seconds",
            "Per tap and protocol: when the last reply was decided (Unix time).",
            &rep,
        )?;
        gauges(
            enc,
            "tap_last_drop_timestamp_seconds",
            "Per tap and protocol: when the last packet was dropped (Unix time).",
            &drop,
        )?;
        counters(
            enc,
            "tap_rate_limited",
            "Per tap and protocol: packets dropped by the rate limit.",
            &limited,
        )
    }

    fn kernel(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Ok(text) = std::fs::read_to_string(NFQUEUE_PROC) else {
            return Ok(());
        };
        let ks = parse_kernel_queues(&text);
        let names: Vec<String> = ks.iter().map(|k| k.queue.to_string()).collect();
        let rows = |f: fn(&KernelQueue) -> u64| -> Vec<(Labels<'_>, u64)> {
            ks.iter()
                .zip(&names)
                .map(|(k, n)| (vec![("queue", n.as_str())], f(k)))
                .collect()
        };
        counters(enc, "kernel_queue_dropped", "Packets the kernel dropped because the queue was full (nfnetlink_queue queue_dropped).", &rows(|k| k.queue_dropped))?;
        counters(enc, "kernel_user_dropped", "Packets the kernel dropped because the daemon's socket buffer was full (nfnetlink_queue user_dropped).", &rows(|k| k.user_dropped))?;
        let waiting: Vec<_> = rows(|k| k.waiting)
            .into_iter()
            .map(|(l, v)| (l, i64::try_from(v).unwrap_or(i64::MAX)))
            .collect();
        gauges(
            enc,
            "kernel_queue_waiting",
            "Packets waiting for a verdict (nfnetlink_queue queue_total).",
            &waiting,
        )
    }
}

impl Collector for DaemonCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        self.protocol_counters(&mut enc)?;
        self.bindings(&mut enc)?;
        self.link_monitor(&mut enc)?;
        self.latency(&mut enc)?;
        self.kernel(&mut enc)?;
        if self.config.load().metrics.per_tap {
            self.per_tap(&mut enc)?;
        }
        Ok(())
    }
}

/// The registry of the daemon's metrics (prefix `nfdhcpd_`).
pub fn registry(
    metrics: Arc<Metrics>,
    table: Arc<Table>,
    links: Arc<Health>,
    config: Arc<ArcSwap<Config>>,
) -> Registry {
    let mut r = Registry::with_prefix("nfdhcpd");
    r.register_collector(Box::new(DaemonCollector {
        metrics,
        table,
        links,
        config,
    }));
    r
}

/// The exposition text of `r`.
pub fn render(r: &Registry) -> String {
    let mut s = String::new();
    prometheus_client::encoding::text::encode(&mut s, r).expect("writing to a String never fails");
    s
}

/// The first sample (name and labels) or family (`TYPE name`) that an
/// exposition holds twice: Prometheus rejects such a scrape.
pub fn repeated_series(text: &str) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    for l in text.lines() {
        let key = if let Some(d) = l.strip_prefix("# TYPE ") {
            format!("TYPE {}", d.split_whitespace().next().unwrap_or(""))
        } else if l.starts_with('#') {
            continue;
        } else {
            l.rsplit_once(' ').map_or(l, |(k, _)| k).to_string()
        };
        if !seen.insert(key.clone()) {
            return Some(key);
        }
    }
    None
}

/// Content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Largest request head read.
const MAX_REQUEST: usize = 8192;

/// Serves `GET /metrics` for ever on `listener`, at most
/// [`crate::observe::control::MAX_CONNECTIONS`] connections at a time (see
/// [`crate::observe::control::serve_capped`]).
pub async fn serve(listener: tokio::net::TcpListener, registry: Arc<Registry>) {
    crate::observe::control::serve_capped(listener, "metrics endpoint", move |stream| {
        let r = registry.clone();
        async move {
            if let Err(e) = answer(stream, &r).await {
                debug!(error = %e, "metrics request failed");
            }
        }
    })
    .await
}

async fn answer(mut stream: tokio::net::TcpStream, r: &Registry) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + crate::observe::control::READ_TIMEOUT;
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if n == 0 || buf.len() + n > MAX_REQUEST {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf);
    let mut parts = line.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => ("200 OK", CONTENT_TYPE, render(r)),
        ("GET" | "HEAD", "/") => (
            "200 OK",
            "text/plain; charset=utf-8",
            "nfdhcpd: metrics at /metrics\n".to_string(),
        ),
        ("GET" | "HEAD", _) => ("404 Not Found", "text/plain", "not found\n".to_string()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n".to_string(),
        ),
    };
    let head = format!(
        "HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if method != "HEAD" {
        stream.write_all(body.as_bytes()).await?;
    }
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{DropReason, ReplyKind};

    #[test]
    fn kernel_table_parses() {
        let t =
            "   42  12345     0 2 65535     3     7        9  1\n   43 -4000 0 2 65535 0 0 1 1\n";
        assert_eq!(
            parse_kernel_queues(t),
            vec![KernelQueue {
                queue: 42,
                waiting: 0,
                queue_dropped: 3,
                user_dropped: 7
            }]
        );
    }

    #[test]
    fn a_queue_registered_again_keeps_one_series_and_its_count() {
        let m = Arc::new(Metrics::default());
        m.register_queue(42, Protocol::Dhcpv4)
            .fetch_add(3, std::sync::atomic::Ordering::Relaxed);
        // A reload unbinds the queue and binds it again.
        let again = m.register_queue(42, Protocol::Dhcpv4);
        assert_eq!(again.load(std::sync::atomic::Ordering::Relaxed), 3);
        assert_eq!(m.queues().len(), 1);
        let text = render(&registry(
            m,
            Table::new(),
            Arc::default(),
            Default::default(),
        ));
        assert_eq!(repeated_series(&text), None, "{text}");
        assert!(text.contains("nfdhcpd_packets_received_total{queue=\"42\",protocol=\"dhcpv4\"} 3"));
    }

    #[test]
    fn per_tap_series_only_when_asked_for() {
        use crate::binding::store::Link;
        use crate::datapath::tap::Store;
        use crate::mac::MacAddr;
        let mut store = Store::new();
        let text = "MAC=aa:00:00:00:00:01\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\n";
        store.set_file("tap1", crate::binding::file::parse("tap1", text, true));
        store.link_up(
            "tap1",
            Link {
                ifindex: 1,
                mac: Some(MacAddr([0xfe, 0, 0, 0, 0, 1])),
            },
        );
        let (snap, _) = store.snapshot(&Default::default());
        let now = crate::datapath::ratelimit::now_ns();
        let served = snap.lookup(1).expect("active");
        let limit = crate::config::Limit { rate: 1, burst: 1 };
        assert!(served.limiter.allow(Protocol::Dhcpv4, limit, now));
        assert!(!served.limiter.allow(Protocol::Dhcpv4, limit, now));
        served.seen.record(
            Protocol::Dhcpv4,
            now,
            &crate::proto::Outcome::Dropped(DropReason::RateLimited),
        );
        let table = Table::new();
        table.publish(snap);
        let config: Arc<ArcSwap<Config>> = Default::default();
        let r = registry(
            Arc::new(Metrics::default()),
            table,
            Arc::default(),
            config.clone(),
        );
        assert!(!render(&r).contains("nfdhcpd_tap_"), "off by default");
        let mut c = Config::default();
        c.metrics.per_tap = true;
        config.store(Arc::new(c));
        let text = render(&r);
        assert_eq!(repeated_series(&text), None, "{text}");
        let unix = crate::datapath::lastseen::unix_ms_now() / 1000;
        for want in [
            "nfdhcpd_tap_rate_limited_total{tap=\"tap1\",protocol=\"dhcpv4\"} 1".to_string(),
            "nfdhcpd_tap_rate_limited_total{tap=\"tap1\",protocol=\"rs\"} 0".to_string(),
            format!("nfdhcpd_tap_last_drop_timestamp_seconds{{tap=\"tap1\",protocol=\"dhcpv4\"}} {unix}"),
        ] {
            assert!(text.contains(&want), "missing {want:?} in\n{text}");
        }
        assert!(
            !text.contains("nfdhcpd_tap_last_reply_timestamp_seconds{"),
            "{text}"
        );
    }

    #[test]
    fn exposition_has_every_family() {
        let m = Arc::new(Metrics::default());
        let rx = m.register_queue(42, Protocol::Dhcpv4);
        rx.fetch_add(2, std::sync::atomic::Ordering::Relaxed);
        m.proto(Protocol::Dhcpv4)
            .receive_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        m.reply(Protocol::Dhcpv4, ReplyKind::Offer);
        m.dropped(Protocol::Dhcpv4, DropReason::SpoofedMac);
        m.latency.observe(std::time::Duration::from_micros(40));
        let text = render(&registry(
            m,
            Table::new(),
            Arc::default(),
            Default::default(),
        ));
        for want in [
            "nfdhcpd_packets_received_total{queue=\"42\",protocol=\"dhcpv4\"} 2",
            "nfdhcpd_queue_receive_calls_total{protocol=\"dhcpv4\"} 1",
            "nfdhcpd_replies_sent_total{protocol=\"dhcpv4\",type=\"offer\"} 1",
            "nfdhcpd_packets_dropped_total{protocol=\"dhcpv4\",reason=\"spoofed_mac\"} 1",
            "nfdhcpd_packets_ignored_total{protocol=\"rs\",reason=\"not_ours\"} 0",
            "nfdhcpd_send_errors_total{protocol=\"dhcpv6\"} 0",
            "nfdhcpd_bindings{state=\"active\"} 0",
            "nfdhcpd_reloads_total 0",
            "nfdhcpd_reload_errors_total 0",
            "nfdhcpd_reply_latency_seconds_bucket{le=\"0.00005\"} 1",
            "nfdhcpd_reply_latency_seconds_bucket{le=\"+Inf\"} 1",
            "nfdhcpd_reply_latency_seconds_count 1",
            "# EOF",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(!text.contains("protocol=\"rs\",type=\"offer\""), "{text}");
    }

    #[test]
    fn link_monitor_health_is_exported() {
        use std::sync::atomic::Ordering::Relaxed;
        let links = Arc::new(Health::default());
        let scrape = |links: &Arc<Health>| {
            render(&registry(
                Arc::default(),
                Table::new(),
                links.clone(),
                Default::default(),
            ))
        };
        let has_lines = |text: &str, wants: &[&str]| {
            for want in wants {
                assert!(
                    text.lines().any(|l| l == *want),
                    "missing {want:?} in\n{text}"
                );
            }
        };
        has_lines(
            &scrape(&links),
            &[
                "# TYPE nfdhcpd_link_monitor_following gauge",
                "nfdhcpd_link_monitor_following 0",
                "# TYPE nfdhcpd_link_monitor_resyncs counter",
                "nfdhcpd_link_monitor_resyncs_total 0",
                "nfdhcpd_link_monitor_overruns_total 0",
                "nfdhcpd_link_monitor_errors_total 0",
            ],
        );
        links.following.store(true, Relaxed);
        links.resyncs.store(3, Relaxed);
        links.overruns.store(2, Relaxed);
        links.errors.store(1, Relaxed);
        *links.last_error.lock().unwrap() = Some("rtnetlink link dump: gone".into());
        let text = scrape(&links);
        assert_eq!(repeated_series(&text), None, "{text}");
        has_lines(
            &text,
            &[
                "nfdhcpd_link_monitor_following 1",
                "nfdhcpd_link_monitor_resyncs_total 3",
                "nfdhcpd_link_monitor_overruns_total 2",
                "nfdhcpd_link_monitor_errors_total 1",
            ],
        );
        // The message is for `status`: a label would make one series per error.
        assert!(!text.contains("gone"), "{text}");
    }
}
