//! A real Prometheus for the digest's tests: Debian's `prometheus` started on a
//! loopback port chosen at run time, its data a temp dir holding a synthetic fleet
//! backfilled with `promtool tsdb create-blocks-from openmetrics`, and scraping one
//! live `prometheus-node-exporter` whose textfile directory holds rreport's metrics.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::support::eventually;

/// A port free on loopback now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Children killed when the test ends, pass or fail.
pub struct Running(Vec<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub struct Prometheus {
    pub url: String,
    pub live_instance: String,
    _running: Running,
}

/// What a host of the synthetic fleet does over the backfilled hours.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Healthy,
    /// /var goes from 80 % to 90 % full in the backfilled hours: full within hours.
    FillingDisk,
    /// up is 0 for the last 30 minutes.
    Dead,
    /// No samples in the last hour: the series went stale.
    Gone,
    /// Booted an hour ago.
    Rebooted,
    /// 95 % CPU busy.
    Busy,
    /// rreport runs there: status and attention from its textfile.
    Rreport {
        status: u8,
        security: u32,
        reboot: bool,
    },
}

pub fn instance(i: usize) -> String {
    format!("host-{i:03}:9100")
}

/// The fleet as OpenMetrics text: one sample a minute for the `hours` before `end`.
pub fn openmetrics(fleet: &[Kind], end: DateTime<Utc>, hours: i64) -> String {
    let end = end.timestamp();
    let start = end - hours * 3600;
    let times: Vec<i64> = (start..=end).step_by(60).collect();
    let mut out = String::new();
    let mut family = |name: &str, each: &dyn Fn(usize, Kind, i64) -> Vec<(String, f64)>| {
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (i, kind) in fleet.iter().enumerate() {
            for (labels, _) in each(i, *kind, start) {
                for &t in &times {
                    if *kind == Kind::Gone && t > end - 3600 {
                        break;
                    }
                    let value = each(i, *kind, t)
                        .into_iter()
                        .find(|(l, _)| *l == labels)
                        .map(|(_, v)| v);
                    if let Some(v) = value {
                        let _ = writeln!(
                            out,
                            "{name}{{job=\"node\",instance=\"{}\"{labels}}} {v} {t}",
                            instance(i)
                        );
                    }
                }
            }
        }
    };
    family("up", &|_, k, t| {
        vec![(
            String::new(),
            if k == Kind::Dead && t > end - 1800 {
                0.0
            } else {
                1.0
            },
        )]
    });
    family("node_time_seconds", &|_, _, t| {
        vec![(String::new(), t as f64)]
    });
    family("node_boot_time_seconds", &|_, k, t| {
        let booted = if k == Kind::Rebooted && t >= end - 3600 {
            end - 3600
        } else {
            start - 30 * 86400
        };
        vec![(String::new(), booted as f64)]
    });
    family("node_cpu_seconds_total", &|_, k, t| {
        let idle = if k == Kind::Busy { 0.05 } else { 0.9 };
        let up = (t - (start - 86400)) as f64;
        (0..2)
            .map(|cpu| (format!(",cpu=\"{cpu}\",mode=\"idle\""), up * idle))
            .collect()
    });
    family("node_memory_MemTotal_bytes", &|_, _, _| {
        vec![(String::new(), 8.0 * (1u64 << 30) as f64)]
    });
    family("node_memory_MemAvailable_bytes", &|_, _, _| {
        vec![(String::new(), 6.0 * (1u64 << 30) as f64)]
    });
    family("node_filesystem_size_bytes", &|_, _, _| {
        vec![
            (",mountpoint=\"/\",fstype=\"ext4\"".into(), 100e9),
            (",mountpoint=\"/var\",fstype=\"ext4\"".into(), 100e9),
            (",mountpoint=\"/run\",fstype=\"tmpfs\"".into(), 1e9),
        ]
    });
    family("node_filesystem_avail_bytes", &|_, k, t| {
        let var = match k {
            // 20 GB free at the start, 10 GB at the end: the rest gone in hours.
            Kind::FillingDisk => 20e9 - 10e9 * (t - start) as f64 / (end - start) as f64,
            _ => 70e9,
        };
        vec![
            (",mountpoint=\"/\",fstype=\"ext4\"".into(), 60e9),
            (",mountpoint=\"/var\",fstype=\"ext4\"".into(), var),
            (",mountpoint=\"/run\",fstype=\"tmpfs\"".into(), 0.0),
        ]
    });
    family("node_load5", &|_, _, _| vec![(String::new(), 0.2)]);
    family("rreport_status", &|_, k, _| match k {
        Kind::Rreport { status, .. } => vec![(String::new(), status as f64)],
        _ => vec![],
    });
    family("rreport_attention", &|_, k, _| match k {
        Kind::Rreport { status, .. } if status > 0 => {
            vec![(
                ",rank=\"1\",text=\"check nginx failed: connection refused\"".into(),
                status as f64,
            )]
        }
        _ => vec![],
    });
    family("rreport_updates_pending", &|_, k, _| match k {
        Kind::Rreport { security, .. } => vec![
            (",security=\"true\"".into(), security as f64),
            (",security=\"false\"".into(), 3.0),
        ],
        _ => vec![],
    });
    family("rreport_reboot_required", &|_, k, _| match k {
        Kind::Rreport { reboot, .. } => vec![(String::new(), if reboot { 1.0 } else { 0.0 })],
        _ => vec![],
    });
    family(
        "rreport_last_report_timestamp_seconds",
        &|_, k, t| match k {
            // A report every hour.
            Kind::Rreport { .. } => vec![(String::new(), (t - t % 3600) as f64)],
            _ => vec![],
        },
    );
    out.push_str("# EOF\n");
    out
}

#[track_caller]
fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (.ci/run installs Debian's prometheus)"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Prometheus {
    /// Backfills `fleet` (ending at `end`) into a data dir under `dir`, starts a live
    /// node_exporter serving `textfile` (rreport's metrics) and Prometheus scraping it
    /// each second, and waits until Prometheus has the live host's rreport series.
    pub fn start(dir: &Path, fleet: &[Kind], end: DateTime<Utc>, textfile: &str) -> Prometheus {
        Prometheus::start_with(dir, fleet, end, textfile, None)
    }

    /// As `start`, with Prometheus' `--web.config.file` (TLS, basic auth) when given:
    /// then its readiness is left to the caller, who has the credentials.
    pub fn start_with(
        dir: &Path,
        fleet: &[Kind],
        end: DateTime<Utc>,
        textfile: &str,
        web: Option<&str>,
    ) -> Prometheus {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let om = dir.join("fleet.om");
        std::fs::write(&om, openmetrics(fleet, end, 3)).unwrap();
        run(
            "promtool",
            &[
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                om.to_str().unwrap(),
                data.to_str().unwrap(),
            ],
        );
        let textfiles = dir.join("textfile");
        std::fs::create_dir_all(&textfiles).unwrap();
        std::fs::write(textfiles.join("rreport.prom"), textfile).unwrap();
        let (exporter, prom) = (free_port(), free_port());
        let live_instance = format!("127.0.0.1:{exporter}");
        let node = Command::new("prometheus-node-exporter")
            .arg(format!("--web.listen-address=127.0.0.1:{exporter}"))
            .arg(format!(
                "--collector.textfile.directory={}",
                textfiles.display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let config = dir.join("prometheus.yml");
        let scrape = format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['{live_instance}']\n");
        std::fs::write(&config, scrape).unwrap();
        let mut server = Command::new("prometheus");
        if let Some(web) = web {
            let path = dir.join("web.yml");
            std::fs::write(&path, web).unwrap();
            server.arg(format!("--web.config.file={}", path.display()));
        }
        let server = server
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{prom}"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("prometheus.log")).unwrap(),
            ))
            .spawn()
            .unwrap();
        let running = Running(vec![node, server]);
        if web.is_some() {
            let url = format!("https://localhost:{prom}");
            return Prometheus {
                url,
                live_instance,
                _running: running,
            };
        }
        let url = format!("http://127.0.0.1:{prom}");
        let live = format!("rreport_status{{instance=\"{live_instance}\"}}");
        let ready = eventually(Duration::from_secs(60), || !query(&url, &live).is_empty());
        let log = std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();
        assert!(
            ready,
            "Prometheus never scraped the live node_exporter:\n{log}"
        );
        Prometheus {
            url,
            live_instance,
            _running: running,
        }
    }
}

/// The raw `result` of an instant query, empty when Prometheus does not answer yet.
pub fn query(url: &str, promql: &str) -> Vec<serde_json::Value> {
    let answer = ureq::get(format!("{url}/api/v1/query"))
        .query("query", promql)
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_json::<serde_json::Value>().ok());
    let Some(v) = answer else { return Vec::new() };
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}
