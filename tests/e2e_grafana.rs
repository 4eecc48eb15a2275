//! The Grafana dashboard (bindings-examples/grafana-dashboard.json) uses
//! only metric names the daemon exports: every PromQL expression's names
//! are checked against a scrape of the real daemon's `/metrics`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

/// PromQL words that are neither metric names nor functions.
const KEYWORDS: [&str; 5] = ["bool", "and", "or", "unless", "offset"];
/// PromQL modifiers followed by a parenthesised label list.
const LABEL_LISTS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The index just past the bracket that closes the one at `i`, skipping
/// quoted strings.
fn skip_group(b: &[u8], mut i: usize, open: u8, close: u8) -> usize {
    let mut depth = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => i = skip_string(b, i, q) - 1,
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// The index just past the string quoted by `q` that starts at `i`.
fn skip_string(b: &[u8], mut i: usize, q: u8) -> usize {
    i += 1;
    while i < b.len() && b[i] != q {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

fn is_ident(c: u8, first: bool) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || (!first && c.is_ascii_digit())
}

/// The metric names a PromQL expression selects: identifiers outside label
/// matchers, ranges and strings that are not functions, aggregations,
/// keywords or label lists.
fn metric_names(expr: &str) -> Vec<String> {
    let b = expr.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    let next_word = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let start = j;
        while j < b.len() && is_ident(b[j], j == start) {
            j += 1;
        }
        (start, &expr[start..j])
    };
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => i = skip_string(b, i, q),
            b'{' => i = skip_group(b, i, b'{', b'}'),
            b'[' => i = skip_group(b, i, b'[', b']'),
            b'$' => {
                i += 1;
                while i < b.len() && is_ident(b[i], false) {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || c == b'.' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
            }
            c if is_ident(c, true) => {
                let start = i;
                while i < b.len() && is_ident(b[i], false) {
                    i += 1;
                }
                let word = &expr[start..i];
                let (at, after) = next_word(i);
                let paren_at =
                    |j: usize| b[j..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'(');
                if LABEL_LISTS.contains(&word) {
                    if paren_at(i) {
                        let open = i + b[i..].iter().position(|&c| c == b'(').unwrap();
                        i = skip_group(b, open, b'(', b')');
                    }
                } else if KEYWORDS.contains(&word)
                    || paren_at(i)
                    || (at < b.len() && ["by", "without"].contains(&after))
                {
                    // A function or an aggregation (`sum by (x) (…)`).
                } else {
                    names.push(word.to_string());
                }
            }
            _ => i += 1,
        }
    }
    names
}

/// Every PromQL expression of a dashboard: the panels' targets and the
/// first argument of the variables' `label_values(…)` queries.
fn expressions(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v.as_str()) {
                    ("expr", Some(e)) => out.push(e.to_string()),
                    ("query" | "definition", Some(q)) => {
                        if let Some(inner) = q
                            .strip_prefix("label_values(")
                            .and_then(|r| r.rsplit_once(','))
                        {
                            out.push(inner.0.to_string());
                        }
                    }
                    _ => expressions(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| expressions(v, out)),
        _ => {}
    }
}

/// The metric names of a dashboard's expressions.
fn dashboard_names(dashboard: &str) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(dashboard).expect("dashboard JSON");
    let mut exprs = Vec::new();
    expressions(&v, &mut exprs);
    exprs.iter().flat_map(|e| metric_names(e)).collect()
}

/// The series names a scrape (OpenMetrics text) can be queried by: each
/// family's samples (`_total` of a counter; `_bucket`, `_sum`, `_count`
/// of a histogram; a gauge's own name) and every sample line's name.
fn exported(scrape: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in scrape.lines() {
        if let Some(t) = line.strip_prefix("# TYPE ") {
            let mut w = t.split_whitespace();
            let (Some(name), Some(kind)) = (w.next(), w.next()) else {
                continue;
            };
            let suffixes: &[&str] = match kind {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            names.extend(suffixes.iter().map(|s| format!("{name}{s}")));
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            names.insert(line[..end].to_string());
        }
    }
    names
}

/// The dashboard's names the scrape does not have.
fn unknown(dashboard: &str, scrape: &str) -> Vec<String> {
    let have = exported(scrape);
    dashboard_names(dashboard)
        .into_iter()
        .filter(|n| !have.contains(n))
        .collect()
}

fn shipped() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("bindings-examples/grafana-dashboard.json");
    std::fs::read_to_string(p).expect("the dashboard")
}

const SCRAPE: &str = "# TYPE nfdhcpd_replies_sent counter\nnfdhcpd_replies_sent_total{protocol=\"dhcpv4\",type=\"offer\"} 1\n# TYPE nfdhcpd_reply_latency_seconds histogram\nnfdhcpd_reply_latency_seconds_bucket{le=\"+Inf\"} 1\n# TYPE nfdhcpd_bindings gauge\nnfdhcpd_bindings{state=\"active\"} 1\n# EOF\n";

#[test]
fn names_are_found_outside_functions_matchers_ranges_and_label_lists() {
    let names = |e: &str| metric_names(e);
    assert_eq!(
        names(
            r#"histogram_quantile(0.99, sum by (le) (rate(nfdhcpd_reply_latency_seconds_bucket{instance=~"$instance"}[$__rate_interval])))"#
        ),
        ["nfdhcpd_reply_latency_seconds_bucket"]
    );
    assert_eq!(
        names(
            r#"sum(rate(a_sum{x="}by(y)"}[5m])) by (queue) / on(queue) group_left(protocol) b_count offset 1h"#
        ),
        ["a_sum", "b_count"]
    );
    assert_eq!(
        names("max without (queue) (up) and bool nfdhcpd_bindings > 0.5"),
        ["up", "nfdhcpd_bindings"]
    );
}

#[test]
fn a_misspelt_or_unsuffixed_name_is_reported() {
    let dash = |e: &str| format!(r#"{{"panels":[{{"targets":[{{"expr":{e:?}}}]}}]}}"#);
    assert!(unknown(&dash("rate(nfdhcpd_replies_sent_total[5m])"), SCRAPE).is_empty());
    assert!(unknown(&dash("nfdhcpd_reply_latency_seconds_count"), SCRAPE).is_empty());
    assert_eq!(
        unknown(&dash("rate(nfdhcpd_replies_send_total[5m])"), SCRAPE),
        ["nfdhcpd_replies_send_total"]
    );
    // A counter is queried by its _total series, never its family name.
    assert_eq!(
        unknown(&dash("rate(nfdhcpd_replies_sent[5m])"), SCRAPE),
        ["nfdhcpd_replies_sent"]
    );
    let var = r#"{"templating":{"list":[{"query":{"query":"label_values(nfdhcpd_bindngs, instance)"}}]}}"#;
    assert_eq!(unknown(var, SCRAPE), ["nfdhcpd_bindngs"]);
}

#[test]
fn the_shipped_dashboard_names_the_daemons_metrics() {
    let names = dashboard_names(&shipped());
    assert!(names.len() >= 14, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("nfdhcpd_")), "{names:?}");
    let v: serde_json::Value = serde_json::from_str(&shipped()).unwrap();
    assert_eq!(v["templating"]["list"][0]["type"], "datasource");
}

#[test]
fn the_dashboard_uses_only_names_the_daemon_exports() {
    if !prerequisites(&["python3"]) {
        return;
    }
    let t = Topology::new("graf");
    t.install_rules();
    t.write_binding(
        "tap-r",
        "MAC=aa:00:00:00:00:10\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\n",
    );
    let conf = t.write_config("", "");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("\n[metrics]\nlisten = 127.0.0.1:9108\n");
    std::fs::write(&conf, text).unwrap();
    let d = t.start_daemon(&conf);
    let scrape = t.host.run(
        "python3 -c 'import urllib.request as u; print(u.urlopen(\"http://127.0.0.1:9108/metrics\", timeout=5).read().decode())'",
    );
    assert!(scrape.contains("# EOF"), "{scrape}\n{}", d.log_text());
    let missing = unknown(&shipped(), &scrape);
    assert!(
        missing.is_empty(),
        "the dashboard uses names the daemon does not export: {missing:?}\nscrape:\n{scrape}"
    );
}
