//! The report: its lines, printed as they are written, then written to a
//! file with the hand-written analysis after them; the machine it ran on;
//! and figures as they are printed (percentiles, microseconds, milliseconds).

use anyhow::Context as _;
use std::path::Path;
use std::time::Duration;

/// The report, printed as it is written.
#[derive(Default)]
pub(crate) struct Report {
    lines: Vec<String>,
}

impl Report {
    pub(crate) fn line(&mut self, text: impl Into<String>) {
        let text = text.into();
        println!("{text}");
        self.lines.push(text);
    }

    /// Adds lines already printed (by a section's own process).
    pub(crate) fn extend(&mut self, lines: impl IntoIterator<Item = String>) {
        self.lines.extend(lines);
    }

    /// Writes the lines alone to `out`: one section's, for the run that
    /// gathers them.
    pub(crate) fn write_lines(self, out: &Path) -> anyhow::Result<()> {
        std::fs::write(out, self.lines.join("\n"))
            .with_context(|| format!("writing {}", out.display()))
    }

    /// Writes the report to `out`, the hand-written `bench/ANALYSIS.md`
    /// appended.
    pub(crate) fn write(self, out: &Path) -> anyhow::Result<()> {
        let mut text = self.lines.join("\n");
        text.push('\n');
        if let Ok(analysis) =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ANALYSIS.md"))
        {
            text.push('\n');
            text.push_str(&analysis);
        }
        std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
        println!("\nwritten to {}", out.display());
        Ok(())
    }
}

pub(crate) fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples
        .get(((samples.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or_default()
}

/// The middle value of `values` (sorted in place; not empty).
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Rounds of `n` measurements taken in turns, each round starting one
/// further on, so that a slow moment of the machine falls on a round of
/// each rather than on one alone: `(round, which)` in the order to take
/// them.
pub(crate) fn turns(rounds: usize, n: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..rounds).flat_map(move |round| (0..n).map(move |k| (round, (k + round) % n)))
}

pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The machine the report was produced on: cores, CPU, memory, OS.
pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib >> 20);
    format!(
        "{cores} cores ({cpu}), {mem} GiB, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
