//! Per-call cost of each stage: every collector alone, context assembly, rendering,
//! message building. `cargo bench --bench pipeline`; the numbers go in BENCHMARKS.md.

use std::time::{Duration, Instant};

use divan::Bencher;
use rreport::collect::{self, boot, cpu, disk, host, memory, Context};
use rreport::config::Config;
use rreport::report::Renderer;

fn main() {
    divan::main();
}

#[divan::bench]
fn collector_hostname() -> String {
    host::hostname().unwrap()
}

#[divan::bench]
fn collector_boot() -> boot::Boot {
    boot::collect(chrono_tz::UTC).unwrap()
}

#[divan::bench]
fn collector_memory() -> memory::Memory {
    memory::collect().unwrap()
}

/// Both /proc/stat reads and the load average, with no window in between.
#[divan::bench]
fn collector_cpu_without_window() -> cpu::Cpu {
    cpu::CpuSample::start()
        .unwrap()
        .finish(Duration::ZERO)
        .unwrap()
}

#[divan::bench]
fn collector_disk() -> usize {
    disk::collect(None, Instant::now() + Duration::from_secs(10))
        .unwrap()
        .0
        .len()
}

/// Every collector on its threads and the merge, with the shortest CPU window (10 ms).
#[divan::bench(sample_count = 20)]
fn gather_context_10ms_window() -> Context {
    collect::gather(
        &collect::Settings::new(
            chrono_tz::UTC,
            Duration::from_millis(10),
            Duration::from_secs(10),
        ),
        chrono::Utc::now(),
    )
}

fn fixture(disks: usize) -> Context {
    let mut ctx: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/context.json")).unwrap();
    let disk = ctx["disks"][0].clone();
    ctx["disks"] = (0..disks)
        .map(|i| {
            let mut d = disk.clone();
            d["mount"] = format!("/srv/volume-{i:04}").into();
            d
        })
        .collect();
    let serde_json::Value::Object(map) = ctx else {
        unreachable!()
    };
    Context(map)
}

fn renderer() -> Renderer {
    Renderer::new(rreport::config::DEFAULT_SUBJECT, None, false).unwrap()
}

#[divan::bench(args = [2, 100, 1000])]
fn render_html_and_text(bencher: Bencher, disks: usize) {
    let (renderer, ctx) = (renderer(), fixture(disks));
    bencher.bench(|| renderer.render(&ctx).unwrap());
}

#[divan::bench]
fn build_message(bencher: Bencher) {
    let text = "[smtp]\nhost = \"mx\"\nfrom = \"r@example.com\"\nto = [\"a@example.com\", \"b@example.com\"]\n";
    let config = Config::parse(text, "bench.toml", &|_| None).unwrap();
    let smtp = config.smtp.unwrap();
    let rendered = renderer().render(&fixture(2)).unwrap();
    bencher.bench(|| {
        let (message, _) =
            rreport::mail::build(&smtp, &rendered, std::time::SystemTime::now()).unwrap();
        message.formatted().len()
    });
}

/// Both /proc scans, /proc/<pid>/io, and the details of the processes shown.
#[divan::bench(sample_count = 30)]
fn collector_processes_without_window() -> usize {
    collect::processes::collect(Duration::ZERO, None)
        .unwrap()
        .0
        .total
}
