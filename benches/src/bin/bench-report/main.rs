//! Turns one benchmark pass into `report.md` and `report.svg`.
//!
//! Reads criterion's `criterion/**/new/{benchmark,estimates}.json`, gungraun's
//! `gungraun/vm-memory-benches/instr/**/summary.json`, the stall probe's TSV and the run's
//! metadata written by `benches/run.sh`, all under one target directory.
//!
//! Usage: `bench-report TARGET_DIR` (writes into `TARGET_DIR/bench-report/`), or
//! `bench-report --check-instr TARGET_DIR`, the CI gate on the instruction counts (see
//! `check_instr`).
//!
//! Ratios are throughput ratios: the other implementation's time divided by ours, so `> 1` means
//! ours is faster; `ours/memcpy` is memcpy's time divided by ours. Times are criterion's median
//! of the per-iteration sample means, and every ratio pairs numbers taken back to back in the
//! same run.

mod json;
mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use json::Json;
use svg::{Panel, Scale};

/// Region counts, as in the benchmarks.
const REGIONS: [usize; 4] = [1, 8, 64, 1024];
/// Relative noise below which "not slower" still counts as met (criterion on this machine
/// reports differences of a few percent between identical runs).
const NOISE: f64 = 0.03;

/// One criterion benchmark.
#[derive(Clone, Debug)]
struct Est {
    median_ns: f64,
    lo_ns: f64,
    hi_ns: f64,
}

/// Criterion results: `(group, case) -> implementation -> estimate`.
type Crit = BTreeMap<(String, String), BTreeMap<String, Est>>;
/// Instruction counts: `(group, function base, id) -> implementation -> Ir`.
type Instr = BTreeMap<(String, String), BTreeMap<String, u64>>;

fn walk(dir: &Path, name: &str, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, name, found);
        } else if p.file_name().is_some_and(|n| n == name) {
            found.push(p);
        }
    }
}

fn read_json(p: &Path) -> Option<Json> {
    let text = std::fs::read_to_string(p).ok()?;
    match Json::parse(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("bench-report: skipping {}: {e}", p.display());
            None
        }
    }
}

fn load_criterion(root: &Path) -> Crit {
    let mut files = Vec::new();
    walk(root, "benchmark.json", &mut files);
    let mut out = Crit::new();
    for b in files {
        if b.parent()
            .and_then(Path::file_name)
            .is_none_or(|n| n != "new")
        {
            continue;
        }
        let (Some(meta), Some(est)) = (
            read_json(&b),
            read_json(&b.with_file_name("estimates.json")),
        ) else {
            continue;
        };
        let s = |k: &str| meta.get(k).and_then(Json::str).unwrap_or("").to_owned();
        let median = |k: &str| est.path(&["median", k]).and_then(Json::num);
        let lo = |k: &str| {
            est.path(&["median", "confidence_interval", k])
                .and_then(Json::num)
        };
        let (Some(m), Some(l), Some(h)) = (
            median("point_estimate"),
            lo("lower_bound"),
            lo("upper_bound"),
        ) else {
            continue;
        };
        out.entry((s("group_id"), s("value_str")))
            .or_default()
            .insert(
                s("function_id"),
                Est {
                    median_ns: m,
                    lo_ns: l,
                    hi_ns: h,
                },
            );
    }
    out
}

fn load_instr(root: &Path) -> Instr {
    let mut files = Vec::new();
    walk(root, "summary.json", &mut files);
    let mut out = Instr::new();
    for f in files {
        let Some(v) = read_json(&f) else { continue };
        let Some(func) = v.get("function_name").and_then(Json::str) else {
            continue;
        };
        let id = v.get("id").and_then(Json::str).unwrap_or("");
        let ir = v
            .get("profiles")
            .and_then(|p| p.at(0))
            .and_then(|p| p.path(&["data", "total", "metrics", "Ir", "values", "new"]))
            .and_then(Json::num);
        let Some(ir) = ir else { continue };
        let (base, imp) = match func.rsplit_once('_') {
            Some((b, i @ ("ours" | "upstream"))) => (b.to_owned(), i.to_owned()),
            _ => (func.to_owned(), "ours".to_owned()),
        };
        out.entry((base, id.to_owned()))
            .or_default()
            .insert(imp, ir as u64);
    }
    out
}

/// Everything the report draws on.
struct Data {
    crit: Crit,
    instr: Instr,
    meta: Vec<(String, String)>,
    stall: Vec<Vec<String>>,
}

impl Data {
    fn est(&self, group: &str, case: &str, imp: &str) -> Option<&Est> {
        self.crit
            .get(&(group.to_owned(), case.to_owned()))?
            .get(imp)
    }

    fn ns(&self, group: &str, case: &str, imp: &str) -> Option<f64> {
        self.est(group, case, imp).map(|e| e.median_ns)
    }

    /// Throughput of ours relative to `other` (other's time / our time).
    fn ratio(&self, group: &str, case: &str, other: &str) -> Option<f64> {
        Some(self.ns(group, case, other)? / self.ns(group, case, "ours")?)
    }

    fn ir(&self, base: &str, id: &str, imp: &str) -> Option<u64> {
        self.instr
            .get(&(base.to_owned(), id.to_owned()))?
            .get(imp)
            .copied()
    }

    fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn fmt_ns(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v >= 100_000.0 => format!("{:.0} µs", v / 1000.0),
        Some(v) if v >= 10_000.0 => format!("{:.1} µs", v / 1000.0),
        Some(v) if v >= 1000.0 => format!("{:.2} µs", v / 1000.0),
        Some(v) if v >= 100.0 => format!("{v:.0} ns"),
        Some(v) if v >= 10.0 => format!("{v:.1} ns"),
        Some(v) => format!("{v:.2} ns"),
    }
}

fn fmt_x(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v >= 10.0 => format!("{v:.1}×"),
        Some(v) => format!("{v:.2}×"),
    }
}

fn fmt_gibs(bytes: usize, ns: Option<f64>) -> String {
    ns.map_or("–".into(), |ns| {
        format!("{:.1}", bytes as f64 / ns * 1e9 / f64::from(1u32 << 30))
    })
}

fn fmt_n(v: Option<u64>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

fn status(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "**met**",
        Some(false) => "**missed**",
        None => "–",
    }
}

fn geomean(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        None
    } else {
        Some((v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
    }
}

/// The small-object cases: (criterion group, instruction base, label).
fn small_groups() -> Vec<(String, String, String)> {
    let mut g = Vec::new();
    for (op, short) in [("read_obj", "read"), ("write_obj", "write")] {
        for t in ["u8", "u32", "u64", "desc16", "obj96"] {
            g.push((
                format!("{op}_{t}"),
                format!("{short}_{t}"),
                format!("{op} {t}"),
            ));
        }
    }
    for op in ["load", "store"] {
        for t in ["u16", "u32", "u64"] {
            g.push((
                format!("{op}_{t}"),
                format!("{op}_{t}"),
                format!("{op} {t}"),
            ));
        }
    }
    g
}

/// The criterion case ids of one region count (in-region places, then the boundary).
fn cases(n: usize) -> Vec<(String, &'static str)> {
    let mut c = vec![(format!("{n}r-first"), "first")];
    if n > 1 {
        c.push((format!("{n}r-last"), "last"));
        c.push((format!("{n}r-boundary"), "boundary"));
    }
    c
}

/// The instruction-count benchmark that matches a criterion case, if any.
fn instr_key(base: &str, n: usize, place: &str) -> Option<(String, String)> {
    let id = format!("r{n}");
    match place {
        "last" => Some((base.to_owned(), id)),
        "first" if n == 1 => Some((base.to_owned(), id)),
        "boundary" => {
            let (op, t) = base.split_once('_')?;
            Some((format!("{op}_boundary_{t}"), id))
        }
        _ => None,
    }
}

/// One target row: (target, measured, status).
type Row = (String, String, Option<bool>);

/// The worst (lowest) of a set of labelled ratios.
fn worst(v: &[(f64, String)]) -> Option<&(f64, String)> {
    v.iter().min_by(|a, b| a.0.total_cmp(&b.0))
}

/// Small-object targets per operation family, from criterion and (separately) from instruction
/// counts; objects straddling two regions get rows of their own.
fn small_targets(d: &Data, rows: &mut Vec<Row>) {
    for (family, ops) in [
        ("`read_obj`/`write_obj`", ["read_obj", "write_obj"]),
        ("`load`/`store`", ["load", "store"]),
    ] {
        for (label, want, counts) in [
            ("1 region", 2.0, &[1usize][..]),
            ("8 or more regions", 4.0, &[8, 64, 1024][..]),
        ] {
            let groups: Vec<_> = small_groups()
                .into_iter()
                .filter(|(g, _, _)| ops.iter().any(|op| g.starts_with(&format!("{op}_"))))
                .collect();
            let (mut inside, mut boundary, mut ir) = (Vec::new(), Vec::new(), Vec::new());
            for (group, base, name) in &groups {
                for &n in counts {
                    for (case, place) in cases(n) {
                        if let Some(r) = d.ratio(group, &case, "upstream") {
                            let at = format!("{name}, {case}");
                            if place == "boundary" {
                                boundary.push((r, at));
                            } else {
                                inside.push((r, at));
                            }
                        }
                    }
                    let id = format!("r{n}");
                    if let (Some(o), Some(u)) =
                        (d.ir(base, &id, "ours"), d.ir(base, &id, "upstream"))
                    {
                        ir.push((u as f64 / o as f64, format!("{name}, {n} r: {o} vs {u}")));
                    }
                }
            }
            let gm = geomean(&inside.iter().map(|x| x.0).collect::<Vec<_>>());
            if let Some((w, at)) = worst(&inside) {
                rows.push((
                    format!("{family} inside a region, {label}: ≥ {want}× upstream"),
                    format!(
                        "worst {} ({at}); geometric mean {}",
                        fmt_x(Some(*w)),
                        fmt_x(gm)
                    ),
                    Some(*w >= want),
                ));
            }
            if let Some((w, at)) = worst(&ir) {
                rows.push((
                    "… in instructions per call (deterministic; reference, not the target)"
                        .to_owned(),
                    format!(
                        "worst {} ({at}): {}",
                        fmt_x(Some(*w)),
                        if *w >= want {
                            "reaches the ratio"
                        } else {
                            "below the ratio"
                        }
                    ),
                    None,
                ));
            }
            if let Some((w, at)) = worst(&boundary) {
                rows.push((
                    format!("{family} straddling two regions, {label}: ≥ {want}× upstream"),
                    format!("worst {} ({at})", fmt_x(Some(*w))),
                    Some(*w >= want),
                ));
            }
        }
    }
}

const BULK_SIZES: [usize; 4] = [64, 4 << 10, 64 << 10, 1 << 20];
const BULK_OPS: [&str; 4] = ["read", "write", "read_slice", "write_slice"];

fn size_name(s: usize) -> String {
    if s >= 1 << 20 {
        format!("{} MiB", s >> 20)
    } else if s >= 1 << 10 {
        format!("{} KiB", s >> 10)
    } else {
        format!("{s} B")
    }
}

fn bulk_targets(d: &Data, rows: &mut Vec<Row>) {
    let mut worst_mem: Option<(f64, String)> = None;
    let mut worst_up: Option<(f64, String)> = None;
    for op in BULK_OPS {
        for size in &BULK_SIZES[1..] {
            let g = format!("bulk_{op}");
            let case = size.to_string();
            let at = format!("{op} {}", size_name(*size));
            if let Some(r) = d.ratio(&g, &case, "memcpy")
                && worst_mem.as_ref().is_none_or(|(w, _)| r < *w)
            {
                worst_mem = Some((r, at.clone()));
            }
            if let Some(r) = d.ratio(&g, &case, "upstream")
                && worst_up.as_ref().is_none_or(|(w, _)| r < *w)
            {
                worst_up = Some((r, at));
            }
        }
    }
    rows.push((
        "Bulk copies ≥ 4 KiB: ≥ 0.95× `copy_nonoverlapping`".into(),
        worst_mem.as_ref().map_or("–".into(), |(w, at)| {
            format!("worst {} ({at})", fmt_x(Some(*w)))
        }),
        worst_mem.as_ref().map(|(w, _)| *w >= 0.95),
    ));
    rows.push((
        format!(
            "Bulk copies ≥ 4 KiB: never slower than upstream (within {:.0} % noise)",
            NOISE * 100.0
        ),
        worst_up.as_ref().map_or("–".into(), |(w, at)| {
            format!("worst {} ({at})", fmt_x(Some(*w)))
        }),
        worst_up.as_ref().map(|(w, _)| *w >= 1.0 - NOISE),
    ));
}

fn lookup_targets(d: &Data, rows: &mut Vec<Row>) {
    for (kind, want) in [("same", 1.3), ("random", 2.0)] {
        let (one, many) = (format!("1r-{kind}"), format!("1024r-{kind}"));
        let ours = |g: &str, c: &str| d.ns(g, c, "ours");
        let mut lookup = Vec::new();
        let mut whole = Vec::new();
        if let (Some(a), Some(b)) = (
            ours("lookup_find_region", &one),
            ours("lookup_find_region", &many),
        ) {
            lookup.push((b / a, "find_region".to_owned()));
        }
        for g in ["lookup_read_obj_u64", "lookup_load_u32"] {
            let name = g.trim_start_matches("lookup_");
            let raw = |c: &str| d.ns(g, c, "raw");
            if let (Some(a), Some(b)) = (ours(g, &one), ours(g, &many)) {
                whole.push((b / a, name.to_owned()));
                if let (Some(ra), Some(rb)) = (raw(&one), raw(&many)) {
                    lookup.push(((b - rb) / (a - ra), format!("{name} − raw")));
                }
            }
        }
        let list = |v: &[(f64, String)]| {
            v.iter()
                .map(|(r, n)| format!("{n}: {}", fmt_x(Some(*r))))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let what = if kind == "same" {
            "hitting one region"
        } else {
            "in random regions"
        };
        rows.push((
            format!(
                "Lookup, addresses {what}: 1024 regions ≤ {want}× the 1-region cost (lookup share)"
            ),
            list(&lookup),
            lookup
                .iter()
                .map(|(r, _)| *r)
                .reduce(f64::max)
                .map(|w| w <= want),
        ));
        let raw_growth = match (
            d.ns("lookup_read_obj_u64", &one, "raw"),
            d.ns("lookup_read_obj_u64", &many, "raw"),
        ) {
            (Some(a), Some(b)) => format!("; a raw access alone: {}", fmt_x(Some(b / a))),
            _ => String::new(),
        };
        rows.push((
            "… same, whole call including the data access".to_owned(),
            format!("{}{raw_growth}", list(&whole)),
            whole
                .iter()
                .map(|(r, _)| *r)
                .reduce(f64::max)
                .map(|w| w <= want),
        ));
    }
}

fn atomic_targets(d: &Data, rows: &mut Vec<Row>) {
    let mut parts = Vec::new();
    let mut ok = None;
    for case in ["alone", "writer"] {
        if let Some(r) = d.ratio("memory", case, "upstream") {
            ok = Some(ok.unwrap_or(true) && r >= 1.0 - NOISE);
            parts.push(format!("{case}: {}", fmt_x(Some(r))));
        }
    }
    rows.push((
        format!(
            "`memory()`: no slower than upstream (within {:.0} % noise)",
            NOISE * 100.0
        ),
        parts.join("; "),
        ok,
    ));
    // Stall: ours with a writer against ours alone (the control), at the 99.99th percentile.
    let find = |imp: &str, sc: &str| {
        d.stall
            .iter()
            .find(|r| r.len() >= 9 && r[0] == imp && r[1] == sc)
    };
    let p = |r: &Vec<String>, i: usize| r[i].parse::<f64>().ok();
    if let (Some(alone), Some(writer)) = (find("ours", "alone"), find("ours", "writer")) {
        let (a, w) = (p(alone, 6), p(writer, 6));
        let ok = match (a, w) {
            (Some(a), Some(w)) => Some(w <= (2.0 * a).max(5_000.0)),
            _ => None,
        };
        rows.push((
            "`memory()`: readers never stall while a writer replaces (p99.99 with a writer ≤ max(2× without, 5 µs))".into(),
            format!(
                "p99.99 {} with a writer, {} without; max {} / {}",
                fmt_ns(w),
                fmt_ns(a),
                fmt_ns(p(writer, 7)),
                fmt_ns(p(alone, 7))
            ),
            ok,
        ));
    }
}

fn header(d: &Data, out: &mut String) {
    let m = |k: &str| d.meta(k).unwrap_or("?").to_owned();
    let _ = writeln!(
        out,
        "# vm-memory benchmarks: ours, upstream 0.18.0 and the hardware\n"
    );
    let _ = writeln!(
        out,
        "- Command: `{}`\n- Date: {} (commit {}; at the end of the pass: {})\n- Machine: {}, {} CPUs, {}\n- Toolchain: {}\n- Load average (1 min): {} before, {} during (min–max of samples every 10 s), {} after\n- Criterion: {} s warm-up, {} s measurement per benchmark; the time is the median of the samples. Instruction counts: gungraun {} (callgrind), one call per benchmark.\n",
        m("command"),
        m("date"),
        m("commit"),
        m("commit_after"),
        m("cpu"),
        m("cpus"),
        m("kernel"),
        m("rustc"),
        m("load_before"),
        m("load_during"),
        m("load_after"),
        m("warm_up"),
        m("measurement"),
        m("gungraun")
    );
    let _ = writeln!(
        out,
        "Ratios are throughput ratios: the other side's time divided by ours (`> 1` = ours faster). Each ratio pairs numbers measured back to back in the same run.\n"
    );
}

fn targets(d: &Data, out: &mut String) {
    let mut rows = Vec::new();
    small_targets(d, &mut rows);
    bulk_targets(d, &mut rows);
    lookup_targets(d, &mut rows);
    atomic_targets(d, &mut rows);
    let _ = writeln!(
        out,
        "## Targets\n\n| target | measured | status |\n|---|---|---|"
    );
    for (t, m, s) in rows {
        let _ = writeln!(out, "| {t} | {m} | {} |", status(s));
    }
    out.push('\n');
}

fn small_table(d: &Data, out: &mut String) {
    let _ = writeln!(
        out,
        "## Small objects: `read_obj`, `write_obj`, `load`, `store`\n\nObjects at offset 0x100 of the first or last region, or straddling the boundary between the two middle regions; relaxed atomics. `raw` is a plain volatile (or atomic) access of the same type at the same host address. Instruction counts are for one call, in the last region (first with one region), harness included (the harness alone: {} instructions).\n",
        fmt_n(d.ir("harness", "r1", "ours"))
    );
    let _ = writeln!(
        out,
        "| operation | regions | place | ours | upstream | raw | ours/upstream | instr ours | instr upstream | instr ratio |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for (group, base, name) in small_groups() {
        for n in REGIONS {
            for (case, place) in cases(n) {
                if d.est(&group, &case, "ours").is_none() {
                    continue;
                }
                let (io, iu) = match instr_key(&base, n, place) {
                    Some((b, id)) => (d.ir(&b, &id, "ours"), d.ir(&b, &id, "upstream")),
                    None => (None, None),
                };
                let ir = match (io, iu) {
                    (Some(o), Some(u)) => Some(u as f64 / o as f64),
                    _ => None,
                };
                let _ = writeln!(
                    out,
                    "| {name} | {n} | {place} | {} | {} | {} | {} | {} | {} | {} |",
                    fmt_ns(d.ns(&group, &case, "ours")),
                    fmt_ns(d.ns(&group, &case, "upstream")),
                    fmt_ns(d.ns(&group, &case, "raw")),
                    fmt_x(d.ratio(&group, &case, "upstream")),
                    fmt_n(io),
                    fmt_n(iu),
                    fmt_x(ir)
                );
            }
        }
    }
    out.push('\n');
}

fn bulk_table(d: &Data, out: &mut String) {
    let _ = writeln!(
        out,
        "## Bulk copies\n\nAt the start of region 1 of 8, to or from a host buffer; `memcpy` is `ptr::copy_nonoverlapping` between the same two buffers. Throughput in GiB/s.\n\n| operation | size | ours | upstream | memcpy | ours/upstream | ours/memcpy |\n|---|---|---|---|---|---|---|"
    );
    for op in BULK_OPS {
        for size in BULK_SIZES {
            let g = format!("bulk_{op}");
            let c = size.to_string();
            let _ = writeln!(
                out,
                "| {op} | {} | {} | {} | {} | {} | {} |",
                size_name(size),
                fmt_gibs(size, d.ns(&g, &c, "ours")),
                fmt_gibs(size, d.ns(&g, &c, "upstream")),
                fmt_gibs(size, d.ns(&g, &c, "memcpy")),
                fmt_x(d.ratio(&g, &c, "upstream")),
                fmt_x(d.ratio(&g, &c, "memcpy"))
            );
        }
    }
    out.push('\n');
}

fn io_table(d: &Data, out: &mut String) {
    let _ = writeln!(
        out,
        "## File I/O\n\n`read_volatile_from` a file of zeros (rewound before every read, which is in every column) and `write_volatile_to` `/dev/null`; `raw` is the same `read`/`write` on a host buffer.\n\n| operation | size | ours | upstream | raw | ours/upstream | ours/raw |\n|---|---|---|---|---|---|---|"
    );
    for g in ["read_volatile_from", "write_volatile_to"] {
        for size in [4usize << 10, 64 << 10] {
            let c = size.to_string();
            let _ = writeln!(
                out,
                "| {g} | {} | {} | {} | {} | {} | {} |",
                size_name(size),
                fmt_ns(d.ns(g, &c, "ours")),
                fmt_ns(d.ns(g, &c, "upstream")),
                fmt_ns(d.ns(g, &c, "raw")),
                fmt_x(d.ratio(g, &c, "upstream")),
                fmt_x(d.ratio(g, &c, "raw"))
            );
        }
    }
    out.push('\n');
}

fn misc_tables(d: &Data, out: &mut String) {
    let _ = writeln!(
        out,
        "## `get_slices` over four regions\n\n3 MiB from the middle of region 1 to the middle of region 4, every piece consumed.\n\n| regions | ours | upstream | ours/upstream |\n|---|---|---|---|"
    );
    for n in ["8r", "1024r"] {
        let g = "get_slices_4_regions";
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            n.trim_end_matches('r'),
            fmt_ns(d.ns(g, n, "ours")),
            fmt_ns(d.ns(g, n, "upstream")),
            fmt_x(d.ratio(g, n, "upstream"))
        );
    }
    let _ = writeln!(
        out,
        "\n## `GuestMemoryAtomic`\n\n`GuestAddressSpace::memory()` and dropping the guard: alone; while another thread replaces the map in a loop; while another thread also calls `memory()` in a loop.\n\n| case | ours | upstream | ours/upstream |\n|---|---|---|---|"
    );
    for c in ["alone", "writer", "2-readers"] {
        let _ = writeln!(
            out,
            "| {c} | {} | {} | {} |",
            fmt_ns(d.ns("memory", c, "ours")),
            fmt_ns(d.ns("memory", c, "upstream")),
            fmt_x(d.ratio("memory", c, "upstream"))
        );
    }
    if !d.stall.is_empty() {
        let _ = writeln!(
            out,
            "\nLatency of single `memory()` calls (stall probe: each call timed with `Instant`, whose own cost is the `timer` row):\n\n| impl | scenario | calls | p50 | p99 | p99.9 | p99.99 | max | writer replacements/s |\n|---|---|---|---|---|---|---|---|---|"
        );
        for r in d.stall.iter().filter(|r| r.len() >= 9) {
            let ns = |i: usize| fmt_ns(r[i].parse().ok());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r[0],
                r[1],
                r[2],
                ns(3),
                ns(4),
                ns(5),
                ns(6),
                ns(7),
                r[8]
            );
        }
    }
    let _ = writeln!(
        out,
        "\n## Dirty tracking\n\nThe same writes to memory with `AtomicBitmap` and with `()`, 8 regions.\n\n| write | bitmap | ours | upstream | ours/upstream | ours: bitmap cost |\n|---|---|---|---|---|---|"
    );
    for g in ["dirty_write_obj_u64", "dirty_write_slice_64k"] {
        for c in ["no-bitmap", "atomic-bitmap"] {
            let cost = if c == "atomic-bitmap" {
                match (d.ns(g, c, "ours"), d.ns(g, "no-bitmap", "ours")) {
                    (Some(a), Some(b)) if a >= b => format!("+{}", fmt_ns(Some(a - b))),
                    (Some(a), Some(b)) => format!("−{} (within noise)", fmt_ns(Some(b - a))),
                    _ => "–".into(),
                }
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {} | {c} | {} | {} | {} | {cost} |",
                g.trim_start_matches("dirty_"),
                fmt_ns(d.ns(g, c, "ours")),
                fmt_ns(d.ns(g, c, "upstream")),
                fmt_x(d.ratio(g, c, "upstream"))
            );
        }
    }
    out.push('\n');
}

fn lookup_table(d: &Data, out: &mut String) {
    let _ = writeln!(
        out,
        "## Lookup against the number of regions\n\nEach call takes the next of 4096 precomputed addresses: `same` keeps hitting the last region (48 cache lines of its first page); `random` picks a random region for each address with the same small offsets, so the lookup varies while the data touched stays a few lines per region. `raw` reads the same addresses through plain pointers (the data accesses alone), so `ours − raw` is the share of the call that is not the data access (lookup and checks); with 1024 random regions the data access itself misses the data TLB. `find_region` instruction counts are for the last region.\n\n| operation | regions | addresses | ours | upstream | raw | ours/upstream | ours ÷ ours at 1 region | (ours − raw) ÷ same at 1 region | upstream ÷ upstream at 1 region | instr ours | instr upstream |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for g in [
        "lookup_find_region",
        "lookup_read_obj_u64",
        "lookup_load_u32",
    ] {
        for kind in ["same", "random"] {
            for n in REGIONS {
                let c = format!("{n}r-{kind}");
                let one = format!("1r-{kind}");
                let rel = |imp: &str| match (d.ns(g, &c, imp), d.ns(g, &one, imp)) {
                    (Some(a), Some(b)) => fmt_x(Some(a / b)),
                    _ => "–".into(),
                };
                let share = match (
                    d.ns(g, &c, "ours"),
                    d.ns(g, &c, "raw"),
                    d.ns(g, &one, "ours"),
                    d.ns(g, &one, "raw"),
                ) {
                    (Some(a), Some(ra), Some(b), Some(rb)) => fmt_x(Some((a - ra) / (b - rb))),
                    _ => "–".into(),
                };
                let (io, iu) = if g == "lookup_find_region" && kind == "same" {
                    let id = format!("r{n}");
                    (
                        d.ir("find_region", &id, "ours"),
                        d.ir("find_region", &id, "upstream"),
                    )
                } else {
                    (None, None)
                };
                let _ = writeln!(
                    out,
                    "| {} | {n} | {kind} | {} | {} | {} | {} | {} | {share} | {} | {} | {} |",
                    g.trim_start_matches("lookup_"),
                    fmt_ns(d.ns(g, &c, "ours")),
                    fmt_ns(d.ns(g, &c, "upstream")),
                    fmt_ns(d.ns(g, &c, "raw")),
                    fmt_x(d.ratio(g, &c, "upstream")),
                    rel("ours"),
                    rel("upstream"),
                    fmt_n(io),
                    fmt_n(iu)
                );
            }
        }
    }
    out.push('\n');
}

fn uncertainty(d: &Data, out: &mut String) {
    // The widest confidence intervals, so a reader can tell which rows are shaky.
    let mut widths: Vec<(f64, String)> = d
        .crit
        .iter()
        .flat_map(|((g, c), m)| {
            m.iter()
                .map(move |(imp, e)| ((e.hi_ns - e.lo_ns) / e.median_ns, format!("{g}/{imp}/{c}")))
        })
        .collect();
    widths.sort_by(|a, b| b.0.total_cmp(&a.0));
    let _ = writeln!(
        out,
        "## Noise\n\n{} criterion benchmarks. The widest 95 % confidence intervals of the median (relative width):\n",
        widths.len()
    );
    for (w, id) in widths.iter().take(8) {
        let _ = writeln!(out, "- `{id}`: {:.1} %", w * 100.0);
    }
    out.push('\n');
}

fn plot(d: &Data) -> String {
    let mut panels = Vec::new();
    // Small objects: geometric mean over types and in-region places, per op and region count.
    let mut rows = Vec::new();
    for op in ["read_obj", "write_obj", "load", "store"] {
        for n in REGIONS {
            let mut wall = Vec::new();
            let mut ir = Vec::new();
            for (group, base, _) in small_groups()
                .into_iter()
                .filter(|(g, _, _)| g.strip_prefix(op).is_some_and(|rest| rest.starts_with('_')))
            {
                for (case, place) in cases(n) {
                    if place != "boundary"
                        && let Some(r) = d.ratio(&group, &case, "upstream")
                    {
                        wall.push(r);
                    }
                }
                let id = format!("r{n}");
                if let (Some(o), Some(u)) = (d.ir(&base, &id, "ours"), d.ir(&base, &id, "upstream"))
                {
                    ir.push(u as f64 / o as f64);
                }
            }
            let regions = if n == 1 { "region" } else { "regions" };
            rows.push((
                format!("{op}, {n} {regions}"),
                vec![geomean(&wall), geomean(&ir)],
            ));
        }
    }
    panels.push(Panel {
        title: "Small objects: ours ÷ upstream throughput (geometric mean over types and places)"
            .into(),
        series: vec!["wall clock".into(), "instructions".into()],
        rows,
        scale: Scale::Log(0.5, 64.0),
        refs: vec![(2.0, "2× (1 region)".into()), (4.0, "4× (≥ 8)".into())],
    });
    // Bulk copies against memcpy.
    let mut rows = Vec::new();
    for op in BULK_OPS {
        for size in BULK_SIZES {
            let g = format!("bulk_{op}");
            let c = size.to_string();
            let vs = |imp: &str| Some(d.ns(&g, &c, "memcpy")? / d.ns(&g, &c, imp)?);
            rows.push((
                format!("{op} {}", size_name(size)),
                vec![vs("ours"), vs("upstream")],
            ));
        }
    }
    panels.push(Panel {
        title: "Bulk copies: throughput ÷ copy_nonoverlapping".into(),
        series: vec!["ours".into(), "upstream".into()],
        rows,
        scale: Scale::Linear(1.25),
        refs: vec![(0.95, "0.95".into())],
    });
    // Lookup scaling.
    let mut rows = Vec::new();
    for g in [
        "lookup_find_region",
        "lookup_read_obj_u64",
        "lookup_load_u32",
    ] {
        for kind in ["same", "random"] {
            for n in [8, 64, 1024] {
                let rel = |imp: &str| {
                    Some(
                        d.ns(g, &format!("{n}r-{kind}"), imp)?
                            / d.ns(g, &format!("1r-{kind}"), imp)?,
                    )
                };
                let share = || {
                    let c = format!("{n}r-{kind}");
                    let one = format!("1r-{kind}");
                    Some(
                        (d.ns(g, &c, "ours")? - d.ns(g, &c, "raw")?)
                            / (d.ns(g, &one, "ours")? - d.ns(g, &one, "raw")?),
                    )
                };
                rows.push((
                    format!("{} {kind}, {n} regions", g.trim_start_matches("lookup_")),
                    vec![rel("ours"), rel("upstream"), share()],
                ));
            }
        }
    }
    panels.push(Panel {
        title: "Lookup: cost relative to the same call with 1 region".into(),
        series: vec![
            "ours".into(),
            "upstream".into(),
            "ours minus the raw access (lookup share)".into(),
        ],
        rows,
        scale: Scale::Log(0.5, 32.0),
        refs: vec![(1.3, "1.3×".into()), (2.0, "2×".into())],
    });
    // memory().
    let rows = ["alone", "writer", "2-readers"]
        .iter()
        .map(|c| {
            (
                format!("memory() {c}"),
                vec![d.ns("memory", c, "ours"), d.ns("memory", c, "upstream")],
            )
        })
        .collect::<Vec<_>>();
    let max = rows
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .fold(1.0f64, |a, &b| a.max(b));
    panels.push(Panel {
        title: "GuestMemoryAtomic::memory() + drop: ns per call (lower is better)".into(),
        series: vec!["ours".into(), "upstream".into()],
        rows,
        scale: Scale::Linear((max * 1.2 / 10.0).ceil() * 10.0),
        refs: vec![],
    });
    svg::render(
        "vm-memory: ours vs upstream 0.18.0 vs the hardware",
        &panels,
    )
}

fn read_kv(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The CI gate on instruction counts (deterministic): for every small-object benchmark inside a
/// region, ours must take fewer instructions than upstream, and ours with 1024 regions at most
/// 10 % more than with one (the lookup does not grow with the region count). Returns the number
/// of checks made, or the failures.
fn check_instr(instr: &Instr) -> Result<usize, Vec<String>> {
    let mut failures = Vec::new();
    let mut checks = 0;
    let ir = |base: &str, n: usize, imp: &str| {
        instr
            .get(&(base.to_owned(), format!("r{n}")))
            .and_then(|m| m.get(imp))
            .copied()
    };
    let mut bases: Vec<(String, bool)> = small_groups()
        .into_iter()
        .map(|(_, base, _)| (base, true))
        .collect();
    bases.push(("find_region".to_owned(), false));
    for (base, against_upstream) in bases {
        for n in REGIONS {
            match (ir(&base, n, "ours"), ir(&base, n, "upstream")) {
                (Some(o), Some(u)) => {
                    if against_upstream {
                        checks += 1;
                        if o >= u {
                            failures.push(format!("{base}, {n} regions: ours {o} >= upstream {u}"));
                        }
                    }
                }
                _ => failures.push(format!("{base}, {n} regions: no instruction count")),
            }
        }
        if let (Some(one), Some(many)) = (ir(&base, 1, "ours"), ir(&base, 1024, "ours")) {
            checks += 1;
            if many as f64 > one as f64 * 1.1 {
                failures.push(format!(
                    "{base}: ours takes {many} instructions with 1024 regions, {one} with 1"
                ));
            }
        }
    }
    if failures.is_empty() {
        Ok(checks)
    } else {
        Err(failures)
    }
}

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--check-instr") {
        let target = PathBuf::from(args.get(1).map_or("target", String::as_str));
        let instr = load_instr(&target.join("gungraun/vm-memory-benches/instr"));
        match check_instr(&instr) {
            Ok(n) => {
                eprintln!("bench-report: instruction-count gate passed ({n} checks)");
                return Ok(());
            }
            Err(failures) => {
                for f in &failures {
                    eprintln!("bench-report: FAIL {f}");
                }
                std::process::exit(1);
            }
        }
    }
    let target = PathBuf::from(if args.is_empty() {
        "target".to_owned()
    } else {
        args.remove(0)
    });
    let out_dir = target.join("bench-report");
    std::fs::create_dir_all(&out_dir)?;
    let stall = std::fs::read_to_string(out_dir.join("stall.tsv"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    let d = Data {
        crit: load_criterion(&target.join("criterion")),
        instr: load_instr(&target.join("gungraun/vm-memory-benches/instr")),
        meta: read_kv(&out_dir.join("meta.txt")),
        stall,
    };
    eprintln!(
        "bench-report: {} criterion cases, {} instruction-count pairs, {} stall rows",
        d.crit.len(),
        d.instr.len(),
        d.stall.len()
    );
    let mut md = String::new();
    header(&d, &mut md);
    let _ = writeln!(md, "![plot](report.svg)\n");
    targets(&d, &mut md);
    small_table(&d, &mut md);
    bulk_table(&d, &mut md);
    io_table(&d, &mut md);
    misc_tables(&d, &mut md);
    lookup_table(&d, &mut md);
    uncertainty(&d, &mut md);
    std::fs::write(out_dir.join("report.md"), md)?;
    std::fs::write(out_dir.join("report.svg"), plot(&d))?;
    eprintln!(
        "bench-report: wrote {} and {}",
        out_dir.join("report.md").display(),
        out_dir.join("report.svg").display()
    );
    Ok(())
}
