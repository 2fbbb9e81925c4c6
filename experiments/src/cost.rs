//! What a run will cost before it starts: memory and work estimates, their limits, and human
//! units.

use anyhow::Result;

/// What a run will need, estimated from its validated config before anything large is
/// allocated: memory in bytes and work in arithmetic operations, each with the terms that make it
/// up (the largest is named when the run is refused).
#[derive(Clone, Debug, Default)]
pub struct Cost {
    memory: Vec<(String, f64)>,
    work: Vec<(String, f64)>,
}

impl Cost {
    /// Adds `bytes` of buffers for `what`.
    pub fn memory(mut self, what: impl Into<String>, bytes: f64) -> Cost {
        self.memory.push((what.into(), bytes));
        self
    }

    /// Adds `operations` (multiply-adds, draws, visits) for `what`.
    pub fn work(mut self, what: impl Into<String>, operations: f64) -> Cost {
        self.work.push((what.into(), operations));
        self
    }

    /// Adds what every recorded step of a loop costs whatever its arithmetic: its record, curve
    /// points and timing ([`STEP_BYTES`]) and its fixed overhead ([`STEP_OPERATIONS`]: observers,
    /// shuffles, the record), so a config of 10^12 tiny epochs is refused for what it would
    /// really take, not passed for its few multiply-adds.
    pub fn steps(self, what: &str, steps: f64) -> Cost {
        self.memory(format!("the records and curves of {what}"), steps * STEP_BYTES)
            .work(format!("the fixed cost of each of {what}"), steps * STEP_OPERATIONS)
    }

    /// Bytes the run needs.
    pub fn bytes(&self) -> f64 {
        self.memory.iter().map(|t| t.1).sum()
    }

    /// Operations the run makes.
    pub fn operations(&self) -> f64 {
        self.work.iter().map(|t| t.1).sum()
    }

    /// Refuses a run over `limits`, naming the largest term.
    ///
    /// # Errors
    /// The estimate is over a limit (or not a finite number: a size beyond any machine).
    pub fn check(&self, limits: &Limits) -> Result<()> {
        let largest = |terms: &[(String, f64)]| {
            terms.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map_or(String::new(), |t| t.0.clone())
        };
        let (bytes, ops) = (self.bytes(), self.operations());
        // A NaN estimate (a size beyond any machine) is refused too.
        if bytes.is_nan() || bytes > limits.max_memory {
            anyhow::bail!(
                "this run needs about {} of memory, mostly for {}: more than the {} allowed (--max-memory, default the memory available)",
                human_bytes(bytes),
                largest(&self.memory),
                human_bytes(limits.max_memory)
            );
        }
        if ops.is_nan() || ops > limits.max_work {
            anyhow::bail!(
                "this run needs about {ops:.1e} operations, mostly for {}: more than the {:.1e} allowed (--max-work; 1e15 is about three hours at 100 GFLOP/s)",
                largest(&self.work),
                limits.max_work
            );
        }
        Ok(())
    }
}

/// Memory a recorded step keeps: its record in the recorder (a few numbers and a timing) and
/// its points in every curve of the metrics file, as numbers and as JSON text.
pub const STEP_BYTES: f64 = 512.0;

/// The fixed work of one step of a training loop in operation-equivalents: about a
/// microsecond at the 100 GFLOP/s the work limit assumes (a 17-weight XOR epoch takes 3 µs).
pub const STEP_OPERATIONS: f64 = 1e5;

/// A time with three significant digits in a unit that suits it (`1.25 s`, `3.41 ms`, `812 µs`,
/// `2.5 h`): XOR's epochs are microseconds, and `0.0000 s/epoch` said nothing.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return format!("{seconds} s");
    }
    let (value, unit) = match seconds {
        s if s >= 7200.0 => (s / 3600.0, "h"),
        s if s >= 120.0 => (s / 60.0, "min"),
        s if s >= 1.0 => (s, "s"),
        s if s >= 1e-3 => (s * 1e3, "ms"),
        s if s >= 1e-6 => (s * 1e6, "µs"),
        s => (s * 1e9, "ns"),
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$} {unit}")
}

/// `1.5 GiB`.
pub(crate) fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if !b.is_finite() {
        return "more than any machine has".into();
    }
    let k = if b < 1.0 { 0 } else { ((b.log2() / 10.0).floor() as usize).min(UNITS.len() - 1) };
    format!("{:.1} {}", b / 1024f64.powi(k as i32), UNITS[k])
}

/// The most a run may use: bytes of memory and arithmetic operations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// The most bytes a run may take.
    pub max_memory: f64,
    /// The most operations a run may make.
    pub max_work: f64,
}

impl Default for Limits {
    /// The memory available now (`MemAvailable` on Linux, else 16 GiB), and 1e15 operations.
    fn default() -> Limits {
        let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024.0)
        });
        Limits { max_memory: available.unwrap_or(16.0 * 1024f64.powi(3)), max_work: 1e15 }
    }
}
