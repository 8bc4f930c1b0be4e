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
    boot::collect(&rreport::zone::Zone::utc()).unwrap()
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
        .0
}

#[divan::bench]
fn collector_disk() -> usize {
    disk::collect(None, Instant::now() + Duration::from_secs(10))
        .unwrap()
        .0
        .len()
}

fn watch_etc() -> Vec<rreport::collect::manifest::Watch> {
    vec![rreport::collect::manifest::Watch {
        path: "/etc".into(),
        recursive: true,
        exclude: Vec::new(),
        hash_max_bytes: 1 << 20,
    }]
}

/// A first report of /etc: every entry stat'ed, every file up to 1 MiB hashed.
#[divan::bench(sample_count = 20)]
fn collector_files_etc_baseline() -> usize {
    let (files, _) = collect::files::collect(
        &watch_etc(),
        None,
        chrono::Utc::now(),
        &rreport::zone::Zone::utc(),
    );
    files.watched[0].entries
}

/// Every later report of /etc: one stat per entry, unchanged files not reread.
#[divan::bench(sample_count = 20)]
fn collector_files_etc_compared(bencher: Bencher) {
    let (_, before) = collect::files::collect(
        &watch_etc(),
        None,
        chrono::Utc::now(),
        &rreport::zone::Zone::utc(),
    );
    bencher.bench_local(|| {
        collect::files::collect(
            &watch_etc(),
            Some(&before),
            chrono::Utc::now(),
            &rreport::zone::Zone::utc(),
        )
        .0
        .total
    });
}

/// Three checks in parallel: a process scan, a refused tcp connect, `true`.
#[divan::bench(sample_count = 20)]
fn collector_checks_three() -> usize {
    use rreport::collect::checks::{self, Check, Probe};
    let check = |name: &str, probe| Check {
        name: name.into(),
        probe,
        timeout: Duration::from_secs(5),
    };
    let all = [
        check(
            "init",
            Probe::Process {
                name: Some("no-such-process".into()),
                cmdline: None,
                min: 1,
                max: None,
            },
        ),
        check("tcp", Probe::Tcp("127.0.0.1:1".into())),
        check("true", Probe::Command(vec!["true".into()])),
    ];
    checks::start(&all).finish().len()
}

/// Every collector on its threads and the merge, with the shortest CPU window (10 ms).
#[divan::bench(sample_count = 20)]
fn gather_context_10ms_window() -> Context {
    let readings = collect::gather(
        &collect::Settings::new(
            rreport::zone::Zone::utc(),
            Duration::from_millis(10),
            Duration::from_secs(10),
        ),
        chrono::Utc::now(),
    );
    rreport::status::context(
        &readings,
        &rreport::history::Period::none(&rreport::zone::Zone::utc()),
        &Default::default(),
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
    Renderer::new(rreport::report::DEFAULT_SUBJECT, None, false).unwrap()
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

/// The /proc scan (stat and io), and the details of the processes shown.
#[divan::bench(sample_count = 30)]
fn collector_processes() -> usize {
    collect::processes::collect(None).unwrap().0.total
}
