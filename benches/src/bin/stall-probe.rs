//! Do readers of `GuestMemoryAtomic` stall while a writer replaces the map?
//!
//! For ours and upstream, a reader thread times every `memory()` call (load and drop of the
//! guard) with `Instant` for a fixed time, once with no writer and once while a second thread
//! replaces the map in a loop. It writes one tab-separated line per run:
//! `impl scenario calls p50_ns p99_ns p99.9_ns p99.99_ns max_ns writer_replacements_per_s`,
//! plus a `timer` line for `Instant::now()` alone (the floor of every number).
//!
//! The percentiles show whether calls wait for the writer; the maximum on a shared two-core
//! machine is usually a preemption of the reader, which is why the no-writer run is the control.
//!
//! Usage: `stall-probe [OUTPUT.tsv] [SECONDS_PER_RUN]` (default: stdout, 0.5 s).

use std::hint::black_box;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use upstream::GuestAddressSpace as _;
use vm_memory::GuestAddressSpace as _;
use vm_memory_benches::{StopOnDrop, ours, up};

/// Most samples kept per run (4 bytes each).
const MAX_SAMPLES: usize = 8 << 20;

/// One run's latencies, in nanoseconds, sorted.
struct Run {
    samples: Vec<u32>,
    writer_per_s: f64,
}

impl Run {
    fn percentile(&self, p: f64) -> u32 {
        if self.samples.is_empty() {
            return 0;
        }
        let i = ((self.samples.len() - 1) as f64 * p).round() as usize;
        self.samples[i]
    }
}

/// Times `call` repeatedly for `time`, while `helper` (if any) runs on another thread until the
/// timing is done; the helper returns how many replacements it made.
fn measure(
    time: Duration,
    call: impl Fn(),
    helper: Option<&(dyn Fn(&AtomicBool) -> u64 + Sync)>,
) -> Run {
    let stop = AtomicBool::new(false);
    let mut samples = Vec::with_capacity(MAX_SAMPLES);
    let mut replacements = 0;
    std::thread::scope(|s| {
        let writer = helper.map(|h| {
            let stop = &stop;
            s.spawn(move || h(stop))
        });
        let _stop = StopOnDrop(&stop);
        let end = Instant::now() + time;
        while samples.len() < MAX_SAMPLES {
            let t0 = Instant::now();
            call();
            let t1 = Instant::now();
            samples.push(u32::try_from((t1 - t0).as_nanos()).unwrap_or(u32::MAX));
            if t1 >= end {
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        if let Some(w) = writer {
            replacements = w.join().expect("writer thread");
        }
    });
    samples.sort_unstable();
    Run {
        samples,
        writer_per_s: replacements as f64 / time.as_secs_f64(),
    }
}

fn line(out: &mut dyn Write, imp: &str, scenario: &str, run: &Run) -> std::io::Result<()> {
    writeln!(
        out,
        "{imp}\t{scenario}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.0}",
        run.samples.len(),
        run.percentile(0.5),
        run.percentile(0.99),
        run.percentile(0.999),
        run.percentile(0.9999),
        run.samples.last().copied().unwrap_or(0),
        run.writer_per_s
    )
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut out: Box<dyn Write> = match args.next() {
        Some(path) if path != "-" => Box::new(std::fs::File::create(path)?),
        _ => Box::new(std::io::stdout()),
    };
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0.5);
    let time = Duration::from_secs_f64(secs);

    let (om, um) = (ours::memory(8), up::memory(8));
    let (oh, uh) = (ours::atomic(8), up::atomic(8));

    writeln!(
        out,
        "impl\tscenario\tcalls\tp50_ns\tp99_ns\tp99.9_ns\tp99.99_ns\tmax_ns\twriter_replacements_per_s"
    )?;
    let timer = measure(time, || {}, None);
    line(&mut *out, "timer", "alone", &timer)?;

    let ours_writer = |stop: &AtomicBool| ours::replace_until(&oh, &om, stop);
    let up_writer = |stop: &AtomicBool| up::replace_until(&uh, &um, stop);
    for (scenario, with_writer) in [("alone", false), ("writer", true)] {
        let run = measure(
            time,
            || drop(black_box(oh.memory())),
            with_writer.then_some(&ours_writer as _),
        );
        line(&mut *out, "ours", scenario, &run)?;
        let run = measure(
            time,
            || drop(black_box(uh.memory())),
            with_writer.then_some(&up_writer as _),
        );
        line(&mut *out, "upstream", scenario, &run)?;
    }
    out.flush()
}
