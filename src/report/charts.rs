//! Which charts a report carries, from the history's period: CPU and load, memory,
//! the fullest filesystems, the busiest interfaces and disks, each with its
//! thresholds. Drawn as PNGs (`chart.rs`) that the HTML shows from the context's
//! `charts` (`charts.cpu`, `charts.memory`, `charts.filesystems`, `charts.network`,
//! `charts.diskio`: lists of {src, alt, width, height}), sent as inline parts.
//!
//! A chart that cannot be drawn is left out and logged: a report never waits for one.

use plotters::style::RGBColor;
use serde_json::{json, Map, Value};

use super::chart::{Chart, Line, Unit, HEIGHT, WIDTH};
use super::Image;
use crate::config::{Levels, Thresholds};
use crate::context::Context;
use crate::history::day::{Day, Series};
use crate::history::Period;
use crate::zone::Zone;

/// At most this many charts of one kind: the fullest filesystems, the busiest
/// interfaces and disks (all are in the tables; the charts are for the day's shape).
const PER_KIND: usize = 4;
const BLUE: RGBColor = RGBColor(37, 99, 235);
const ORANGE: RGBColor = RGBColor(217, 119, 6);
const TEAL: RGBColor = RGBColor(13, 148, 136);
const WARNING: RGBColor = RGBColor(162, 28, 175);
const CRITICAL: RGBColor = RGBColor(185, 28, 28);

/// The charts of one report: the images, and what the context says of them.
#[derive(Default)]
pub struct Charts {
    pub images: Vec<Image>,
    /// `charts` in the context: per section, the list of charts to show.
    pub context: Map<String, Value>,
}

/// One chart to draw, and where it goes.
struct Planned<'a> {
    section: &'static str,
    alt: String,
    chart: Chart<'a>,
}

/// The charts of the period in `period`, for the report in `ctx`; `id` makes
/// their Content-IDs unique to this message.
pub fn draw(period: &Period, ctx: &Context, t: &Thresholds, zone: &Zone, id: &str) -> Charts {
    let Some(day) = &period.day else {
        return Charts::default();
    };
    let load = per_cpu_load(day.series.get("load.1"), ctx);
    let mut plan = Plan {
        planned: Vec::new(),
        window: (day.window.from, day.window.to),
    };
    plan_host(&mut plan, day, load.as_deref(), t);
    plan_rows(&mut plan, period, day, ctx, t);
    render(plan.planned, zone, id)
}

/// CPU, load and memory.
fn plan_host<'a>(
    plan: &mut Plan<'a>,
    day: &'a Day,
    load: Option<&'a [Option<f32>]>,
    t: &Thresholds,
) {
    let series = |name: &str| day.series.get(name);
    let cpu = [
        ("cpu.busy", "busy", BLUE),
        ("cpu.iowait", "I/O wait", ORANGE),
    ];
    let cpu = lines(&series, &cpu);
    plan.add("cpu", "CPU", Unit::Percent, cpu, Some(&t.cpu));
    let load = load.map_or(Vec::new(), |points| vec![line("1 min", points, BLUE)]);
    plan.add("cpu", "Load per CPU", Unit::Plain, load, Some(&t.load));
    let memory = [
        ("memory.used_percent", "memory", BLUE),
        ("swap.used_percent", "swap", ORANGE),
    ];
    let memory = lines(&series, &memory);
    plan.add(
        "memory",
        "Memory used",
        Unit::Percent,
        memory,
        Some(&t.memory),
    );
}

/// The fullest filesystems, the busiest interfaces and disks.
fn plan_rows<'a>(
    plan: &mut Plan<'a>,
    period: &Period,
    day: &'a Day,
    ctx: &Context,
    t: &Thresholds,
) {
    let series = |name: &str| day.series.get(name);
    for mount in fullest(ctx) {
        let name = format!("fs:{mount}.used_percent");
        let levels = t.filesystems.get(&mount).unwrap_or(&t.filesystem);
        let used = lines(&series, &[(name.as_str(), "used", BLUE)]);
        plan.add(
            "filesystems",
            &format!("{mount} used"),
            Unit::Percent,
            used,
            Some(levels),
        );
    }
    let kinds = [
        (
            "network",
            "net:",
            ["rx_bytes_per_s", "tx_bytes_per_s"],
            ["received", "sent"],
            "traffic",
            TEAL,
        ),
        (
            "diskio",
            "disk:",
            ["read_bytes_per_s", "written_bytes_per_s"],
            ["read", "written"],
            "I/O",
            ORANGE,
        ),
    ];
    for (section, kind, what, labels, title, second) in kinds {
        for (name, names) in busiest(period, kind, what) {
            let pair = [
                (names[0].as_str(), labels[0], BLUE),
                (names[1].as_str(), labels[1], second),
            ];
            let pair = lines(&series, &pair);
            plan.add(section, &format!("{name} {title}"), Unit::Rate, pair, None);
        }
    }
}

/// The charts to draw, in the order the report shows them.
struct Plan<'a> {
    planned: Vec<Planned<'a>>,
    window: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
}

impl<'a> Plan<'a> {
    /// One chart of `lines` (none: no chart), with `levels`' warning and critical.
    fn add(
        &mut self,
        section: &'static str,
        title: &str,
        unit: Unit,
        lines: Vec<Line<'a>>,
        levels: Option<&Levels>,
    ) {
        if lines.is_empty() {
            return;
        }
        let alt = format!("{title} over the report period");
        let thresholds = levels.map_or(Vec::new(), |l| {
            vec![(l.warning, WARNING), (l.critical, CRITICAL)]
        });
        let (from, to) = self.window;
        let chart = Chart {
            title: title.to_string(),
            unit,
            lines,
            thresholds,
            from,
            to,
        };
        self.planned.push(Planned {
            section,
            alt,
            chart,
        });
    }
}

/// Draws what was planned; a chart that fails is logged and left out.
fn render(planned: Vec<Planned>, zone: &Zone, id: &str) -> Charts {
    let mut charts = Charts::default();
    for (n, p) in planned.into_iter().enumerate() {
        let bytes = match p.chart.draw(zone) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!("{}: {e}; the report goes without it", p.alt);
                continue;
            }
        };
        let cid = format!("chart{n}.{id}");
        let entry =
            json!({"src": format!("cid:{cid}"), "alt": p.alt, "width": WIDTH, "height": HEIGHT});
        let list = charts.context.entry(p.section).or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            list.push(entry);
        }
        charts.images.push(Image {
            cid,
            content_type: "image/png".into(),
            bytes,
        });
    }
    charts
}

fn line<'a>(label: &str, points: &'a [Option<f32>], colour: RGBColor) -> Line<'a> {
    Line {
        label: label.into(),
        points,
        colour,
    }
}

/// The lines of those of `wanted` (series, label, colour) that have samples.
fn lines<'a>(
    series: &dyn Fn(&str) -> Option<&'a Series>,
    wanted: &[(&str, &str, RGBColor)],
) -> Vec<Line<'a>> {
    (wanted.iter())
        .filter_map(|(name, label, colour)| Some(line(label, &series(name)?.line, *colour)))
        .collect()
}

/// The 1-minute load divided by the logical CPUs, as the load thresholds are.
fn per_cpu_load(load: Option<&Series>, ctx: &Context) -> Option<Vec<Option<f32>>> {
    let cpus = ctx.0.get("cpu")?.get("logical")?.as_f64()?.max(1.0) as f32;
    Some(load?.line.iter().map(|p| p.map(|v| v / cpus)).collect())
}

/// The mount points of the fullest filesystems in the report.
fn fullest(ctx: &Context) -> Vec<String> {
    let Some(Value::Array(disks)) = ctx.0.get("disks") else {
        return Vec::new();
    };
    let mut by_use: Vec<(f64, String)> = (disks.iter())
        .filter_map(|d| {
            Some((
                d.get("percent")?.as_f64()?,
                d.get("mount")?.as_str()?.to_string(),
            ))
        })
        .collect();
    by_use.sort_by(|a, b| b.0.total_cmp(&a.0));
    by_use.into_iter().take(PER_KIND).map(|(_, m)| m).collect()
}

/// The busiest rows of one kind (`net:` interfaces, `disk:` devices) by the mean of
/// their two series, with those series' names; loopback is not a network.
fn busiest(period: &Period, kind: &str, what: [&str; 2]) -> Vec<(String, [String; 2])> {
    let Some(day) = &period.day else {
        return Vec::new();
    };
    let names = day.series.keys().filter_map(|s| {
        let row = s
            .strip_prefix(kind)?
            .strip_suffix(&format!(".{}", what[0]))?;
        (row != "lo").then(|| row.to_string())
    });
    let mean = |series: &str| period.stats(series).map_or(0.0, |s| s.avg);
    let mut rows: Vec<(f64, String, [String; 2])> = names
        .map(|row| {
            let pair = what.map(|w| format!("{kind}{row}.{w}"));
            (mean(&pair[0]) + mean(&pair[1]), row, pair)
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    rows.into_iter()
        .take(PER_KIND)
        .map(|(_, row, pair)| (row, pair))
        .collect()
}
