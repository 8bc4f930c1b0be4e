//! One chart of the report period, drawn: lines over time, threshold lines in the
//! levels' colours, the time axis in the configured zone. 600 × 170 px on a solid
//! white background (a transparent chart is unreadable where a dark-mode client
//! inverts the page but not the image), text in DejaVu Sans compiled in (never a
//! system font: a server has none, and a report must look the same everywhere).

use std::sync::Once;

use chrono::{DateTime, Offset, TimeZone, Utc};
use plotters::prelude::*;

use super::png;
use crate::units::bytes;
use crate::zone::Zone;

pub const WIDTH: u32 = 600;
pub const HEIGHT: u32 = 170;
/// Printable ASCII of DejaVu Sans (bitstream-vera licence, `assets/`), 20 KB.
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-subset.ttf");
const TEXT: RGBColor = RGBColor(55, 65, 81);
const MUTED: RGBColor = RGBColor(107, 114, 128);
const GRID: RGBColor = RGBColor(229, 231, 235);

/// What a chart's numbers are, for its axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    /// 0 to 100.
    Percent,
    /// Bytes per second, from 0.
    Rate,
    /// A plain number from 0 (load).
    Plain,
}

/// One line: its name in the legend, one point per bucket (None: no sample).
pub struct Line<'a> {
    pub label: String,
    pub points: &'a [Option<f32>],
    pub colour: RGBColor,
}

/// What to draw.
pub struct Chart<'a> {
    pub title: String,
    pub unit: Unit,
    pub lines: Vec<Line<'a>>,
    /// Horizontal lines at these values (warning, critical), in these colours.
    pub thresholds: Vec<(f64, RGBColor)>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Why a chart was not drawn; the report goes out without it.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot draw a chart: {0}")]
    Draw(String),
    #[error(transparent)]
    Png(#[from] png::PngError),
}

impl Chart<'_> {
    /// The chart as a PNG.
    pub fn draw(&self, zone: &Zone) -> Result<Vec<u8>, ChartError> {
        static FONT_ONCE: Once = Once::new();
        FONT_ONCE.call_once(|| {
            if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
                tracing::error!("the compiled-in chart font does not load");
            }
        });
        let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
        self.plot(&mut rgb, zone)
            .map_err(|e| ChartError::Draw(e.to_string()))?;
        Ok(png::encode(&rgb, WIDTH, HEIGHT)?)
    }

    fn plot(&self, rgb: &mut [u8], zone: &Zone) -> Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (head, body) = root.split_vertically(22);
        self.legend(&head)?;
        let (x0, x1) = (self.from.timestamp() as f64, self.to.timestamp() as f64);
        let top = self.top();
        let mut chart = ChartBuilder::on(&body)
            .margin_right(14)
            .margin_bottom(4)
            .x_label_area_size(16)
            .y_label_area_size(66)
            .build_cartesian_2d(x0..x1.max(x0 + 1.0), 0f64..top)?;
        self.axes(&root, &chart, top, zone)?;
        for (v, colour) in self.thresholds.iter().filter(|(v, _)| *v <= top) {
            chart.draw_series(LineSeries::new(
                [(x0, *v), (x1, *v)],
                colour.stroke_width(1),
            ))?;
        }
        for line in &self.lines {
            for run in runs(line.points, x0, x1) {
                chart.draw_series(LineSeries::new(run, line.colour.stroke_width(2)))?;
            }
        }
        root.present()?;
        Ok(())
    }

    /// Grid lines at quarters of `top` with their values, and the time axis'
    /// labels on whole local hours: drawn here, because plotters puts its labels on
    /// round numbers of seconds and of bytes, neither of which a reader counts in.
    fn axes(
        &self,
        root: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
        chart: &ChartContext<
            BitMapBackend,
            Cartesian2d<
                plotters::coord::types::RangedCoordf64,
                plotters::coord::types::RangedCoordf64,
            >,
        >,
        top: f64,
        zone: &Zone,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let label = ("sans-serif", 11).into_font().color(&MUTED);
        let (x0, x1) = (self.from.timestamp() as f64, self.to.timestamp() as f64);
        for quarter in 0..=4 {
            let v = top * quarter as f64 / 4.0;
            let (left, y) = chart.backend_coord(&(x0, v));
            let (right, _) = chart.backend_coord(&(x1, v));
            root.draw(&PathElement::new([(left, y), (right, y)], GRID))?;
            let text = self.value(v);
            let (w, h) = root.estimate_text_size(&text, &label)?;
            root.draw_text(&text, &label, (left - w as i32 - 6, y - h as i32 / 2))?;
        }
        let (ticks, step) = ticks(self.from, self.to, zone);
        let format = if step >= 86_400 { "%a %d" } else { "%H:%M" };
        for tick in ticks {
            let (x, y) = chart.backend_coord(&(tick, 0.0));
            let t = DateTime::from_timestamp(tick as i64, 0).unwrap_or_default();
            let text = t.with_timezone(zone).format(format).to_string();
            let (w, _) = root.estimate_text_size(&text, &label)?;
            root.draw(&PathElement::new([(x, y), (x, y + 3)], MUTED))?;
            root.draw_text(&text, &label, (x - w as i32 / 2, y + 5))?;
        }
        Ok(())
    }

    /// A value as the axis and the legend write it.
    fn value(&self, v: f64) -> String {
        match self.unit {
            Unit::Percent => format!("{v:.0}%"),
            Unit::Rate => format!("{}/s", bytes(v)),
            Unit::Plain if v == v.round() => format!("{v:.0}"),
            Unit::Plain => format!("{v:.2}"),
        }
    }

    /// The title, each line's label in its colour, then the thresholds'.
    fn legend(
        &self,
        head: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let style = |c: &RGBColor| ("sans-serif", 13).into_font().color(c);
        let title = ascii(&self.title);
        head.draw_text(&title, &style(&TEXT), (8, 5))?;
        let mut x = 8 + text_width(&title, head)? + 16;
        let lines = self.lines.iter().map(|l| (ascii(&l.label), l.colour));
        let names = ["warning", "critical"];
        let limits = (self.thresholds.iter().zip(names))
            .map(|((v, colour), name)| (format!("{name} {}", self.value(*v)), *colour));
        for (label, colour) in lines.chain(limits) {
            head.draw(&Rectangle::new([(x, 11), (x + 10, 13)], colour.filled()))?;
            head.draw_text(&label, &style(&colour), (x + 14, 5))?;
            x += 14 + text_width(&label, head)? + 14;
        }
        Ok(())
    }

    /// The y axis' top: 100 for percentages, else a round number above the highest
    /// point and the first threshold, so "how far from trouble" is in the picture.
    fn top(&self) -> f64 {
        if self.unit == Unit::Percent {
            return 100.0;
        }
        let highest = (self.lines.iter())
            .flat_map(|l| l.points.iter().flatten())
            .fold(0.0f64, |a, b| a.max(*b as f64));
        let first_threshold = self.thresholds.first().map_or(0.0, |(v, _)| *v);
        let wanted = (highest * 1.05).max(first_threshold * 1.05);
        match self.unit {
            Unit::Rate => round_up(wanted.max(1024.0), 1024.0),
            _ => round_up(wanted.max(0.1), 10.0),
        }
    }
}

/// The smallest of 1, 2, 4 or 8 times a power of ten of a power of `base` (1024
/// for bytes, so the quarters are whole KiB, MiB…; 10 otherwise) at or above `v`.
fn round_up(v: f64, base: f64) -> f64 {
    let unit = base.powf(v.log(base).floor());
    let x = v / unit;
    let magnitude = 10f64.powf(x.log10().floor());
    let step = [1.0, 2.0, 4.0, 8.0, 10.0]
        .into_iter()
        .find(|s| s * magnitude >= x)
        .unwrap_or(10.0);
    step * magnitude * unit
}

fn text_width(
    text: &str,
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
) -> Result<i32, Box<dyn std::error::Error>> {
    let style = ("sans-serif", 13).into_font().into_text_style(area);
    let (w, _) = area.estimate_text_size(text, &style)?;
    Ok(w as i32)
}

/// The runs of known points of a line, at their buckets' middles: a gap in the
/// samples (the daemon was down) is a gap in the line, not a straight bridge.
fn runs(points: &[Option<f32>], x0: f64, x1: f64) -> Vec<Vec<(f64, f64)>> {
    let width = (x1 - x0) / points.len().max(1) as f64;
    let mut runs = vec![Vec::new()];
    for (i, p) in points.iter().enumerate() {
        match p {
            Some(v) => runs
                .last_mut()
                .unwrap_or(&mut Vec::new())
                .push((x0 + width * (i as f64 + 0.5), *v as f64)),
            None => runs.push(Vec::new()),
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// Time-axis labels on whole local hours (or days), at most seven, and their step.
fn ticks(from: DateTime<Utc>, to: DateTime<Utc>, zone: &Zone) -> (Vec<f64>, i64) {
    const STEPS: [i64; 9] = [1, 2, 3, 4, 6, 12, 24, 48, 168];
    let span = (to - from).num_seconds().max(1);
    let step = 3600
        * STEPS
            .into_iter()
            .find(|h| span / (h * 3600) <= 6)
            .unwrap_or(168);
    let offset = zone
        .offset_from_utc_datetime(&from.naive_utc())
        .fix()
        .local_minus_utc() as i64;
    let start = from.timestamp() + offset;
    let first = (start + step - 1).div_euclid(step) * step - offset;
    let ticks = (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t <= to.timestamp())
        .map(|t| t as f64)
        .collect();
    (ticks, step)
}

/// The font has printable ASCII only: anything else is shown as '?'.
fn ascii(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    crate::report::filters::truncate(&folded, 48)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_whole_local_hours() {
        let from: DateTime<Utc> = "2026-11-23T07:10:00Z".parse().unwrap();
        let to: DateTime<Utc> = "2026-11-24T07:10:00Z".parse().unwrap();
        let zone = Zone::named("Asia/Kolkata").unwrap(); // +05:30
        let (ticks, step) = ticks(from, to, &zone);
        assert_eq!(step, 4 * 3600);
        let local: Vec<String> = ticks
            .iter()
            .map(|t| {
                let t = DateTime::from_timestamp(*t as i64, 0).unwrap();
                t.with_timezone(&zone).format("%H:%M").to_string()
            })
            .collect();
        assert_eq!(
            local,
            ["16:00", "20:00", "00:00", "04:00", "08:00", "12:00"]
        );
    }

    #[test]
    fn axis_tops_are_round_numbers_in_their_units() {
        assert_eq!(round_up(0.35, 10.0), 0.4);
        assert_eq!(round_up(3.0, 10.0), 4.0);
        assert_eq!(round_up(5.5, 10.0), 8.0);
        assert_eq!(
            round_up(95.0 * 1024.0 * 1024.0, 1024.0),
            100.0 * 1024.0 * 1024.0
        );
        assert_eq!(round_up(3000.0, 1024.0), 4.0 * 1024.0);
    }

    #[test]
    fn a_gap_in_the_samples_is_a_gap_in_the_line() {
        let points = [Some(1.0), Some(2.0), None, None, Some(5.0)];
        let runs = runs(&points, 0.0, 50.0);
        assert_eq!(runs, vec![vec![(5.0, 1.0), (15.0, 2.0)], vec![(45.0, 5.0)]]);
    }

    #[test]
    fn names_the_font_lacks_are_shown_as_question_marks() {
        assert_eq!(ascii("/srv/données"), "/srv/donn?es");
        assert_eq!(ascii("a\u{1b}[31m"), "a?[31m");
    }
}
