//! `cargo xtask bench` (`build.ps1 bench`): every benchmark in one run, written to
//! `docs/benchmarks.md` with the machine, the command and each figure beside its comparison and
//! target. The document's prose is `docs/benchmarks.template.md`; this module measures, formats
//! the figures, decides the verdicts and fills them in by name (`template`).
//!
//! 1. the release module (`layout::build`);
//! 2. criterion benchmarks of the core's hot paths (`rust-core/benches/hot_paths.rs`);
//! 3. the emulator's throughput on loopback (`rust-core/benches/emulator_load.rs` against a
//!    `mscommerce-emulator serve` process);
//! 4. the .NET-level figures (`bench/MSCommerce.Bench`): import, one call vs a raw request, bulk;
//! 5. where a PowerShell is found, the PowerShell-level figures (`bench/powershell/bench.ps1`);
//! 6. the sizes that ship: this machine's native library and, where PowerShell can pack it, the
//!    package (`size`).
//!
//! Without PowerShell the document says so for each PowerShell figure and shows the .NET-level
//! proxy beside it, labelled as such.

use std::path::Path;
use std::time::{Instant, SystemTime};

use serde_json::Value;

use crate::process::{self, capture, output, Step};
use crate::template::{self, Values};
use crate::{emulator, layout, pack, powershell};

/// The emulator's seeded tenant and its global administrator.
const TENANT: &str = "contoso.onmicrosoft.com";
const USER: &str = "admin@contoso.onmicrosoft.com";

/// The settings of one run; the document quotes them.
const CRITERION_ARGS: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "3"];
const LOAD_SECONDS: &str = "5";
const LOAD_CONNECTIONS: &str = "16";
const IMPORT_RUNS: &str = "15";
const CALLS: &str = "200";
const BULK: &str = "1000";
const LATENCY_MS: &str = "5";
/// The emulator's write load: as many connections as the default -ThrottleLimit.
const PUT_CONNECTIONS: &str = "64";

/// The targets (#18: import at most 150 ms and 15 MB; a 1,017-product list no dearer
/// than `Invoke-RestMethod` and the same objects; the linux-x64 library at most 5 MB).
const IMPORT_TARGET_MS: f64 = 150.0;
const IMPORT_TARGET_MB: f64 = 15.0;
const CALL_TARGET_MS: f64 = 1.0;
const CALL_LARGE_TARGET_MS: f64 = 0.0;
const LIBRARY_TARGET_MB: f64 = 5.0;
const BULK_TARGET_RATIO: f64 = 25.0;
/// A bulk update's memory is linear in its items when what it adds per item at the largest size
/// is at most this many times what it adds per item at the smallest.
const MEMORY_LINEAR_FACTOR: f64 = 1.5;
/// What counts as nothing added: the working set moves by pages and the GC's segments.
const MEMORY_FLOOR_MB: f64 = 1.0;

/// What the PowerShell-level benchmark gave.
enum PowerShellRun {
    /// No PowerShell on this machine.
    Absent,
    /// It ran but failed; the bench verb fails after writing the document.
    Failed(String),
    /// Its JSON figures.
    Measured(Value),
}

/// Everything one run measured.
struct Figures {
    machine: Vec<(String, String)>,
    criterion: Vec<(String, f64, Option<u64>)>,
    load: Value,
    /// The emulator's `PUT` throughput, `{"full": .., "relaxed": ..}` (see [`write_load`]).
    put_load: Value,
    dotnet: Value,
    powershell: PowerShellRun,
    size: Value,
}

pub fn run(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let load_at_start = load_average();
    let module = layout::build(root)?;
    let emulator_binary = layout::emulator_binary(root);
    let target = layout::cargo_target(root);

    // The core's hot paths. Only this run's results are read: the folder starts empty.
    let criterion_dir = target.join("criterion");
    let _ = std::fs::remove_dir_all(&criterion_dir);
    process::run(
        Step::new("cargo", root)
            .args([
                "bench",
                "-p",
                "mscommerce-core",
                "--bench",
                "hot_paths",
                "--",
            ])
            .args(CRITERION_ARGS)
            .env("CRITERION_HOME", &criterion_dir),
    )?;
    let criterion = read_criterion(&criterion_dir)?;

    // The emulator as admins and tests run it: its own process, on loopback.
    let load = {
        let emulator = emulator::Emulator::start(&emulator_binary)?;
        let token = emulator.token(TENANT, USER)?;
        let out = capture(
            Step::new("cargo", root)
                .args([
                    "bench",
                    "-p",
                    "mscommerce-core",
                    "--bench",
                    "emulator_load",
                    "--",
                ])
                .args(["--seconds", LOAD_SECONDS, "--connections", LOAD_CONNECTIONS])
                .env("MSCOMMERCE_BENCH_URI", &emulator.service_uri)
                .env("MSCOMMERCE_BENCH_TOKEN", &token),
        )?;
        last_json(&out, "the emulator load benchmark")?
    };
    let put_load = write_load(root, &emulator_binary)?;

    // The .NET level: the managed client the cmdlets use, beside HttpClient.
    let dotnet_out = target.join("bench").join("dotnet");
    process::run(
        Step::new("dotnet", root)
            .args([
                "build",
                "bench/MSCommerce.Bench/MSCommerce.Bench.csproj",
                "-c",
                "Release",
                "--nologo",
                "-v",
                "quiet",
                "-o",
            ])
            .arg(&dotnet_out),
    )?;
    let dotnet = capture(
        Step::new(
            dotnet_out.join(format!("MSCommerce.Bench{}", std::env::consts::EXE_SUFFIX)),
            root,
        )
        .args(["--import-runs", IMPORT_RUNS, "--calls", CALLS])
        .args(["--bulk", BULK, "--latency-ms", LATENCY_MS])
        .env("MSCOMMERCE_NATIVE_DIR", module.native_dir())
        .env("MSCOMMERCE_EMULATOR", &emulator_binary),
    )
    .and_then(|out| last_json(&out, "the .NET benchmark"))?;

    // The PowerShell level, where there is a PowerShell.
    let powershell = match powershell::find(root) {
        Err(why) => {
            println!("no PowerShell for the PowerShell-level benchmarks: {why}");
            PowerShellRun::Absent
        }
        Ok(pwsh) => match capture(
            pwsh.script(root, "bench/powershell/bench.ps1")
                .arg("-ModulePath")
                .arg(module.manifest())
                .args(["-ImportRuns", IMPORT_RUNS, "-Calls", CALLS])
                .args(["-Bulk", BULK, "-LatencyMs", LATENCY_MS])
                .env("MSCOMMERCE_EMULATOR", &emulator_binary),
        )
        .and_then(|out| last_json(&out, "bench/powershell/bench.ps1"))
        {
            Ok(figures) => PowerShellRun::Measured(figures),
            Err(why) => PowerShellRun::Failed(why),
        },
    };

    let size = size(root, &module);

    let mut machine = machine(root, &dotnet, &powershell);
    machine.push((
        "load average (1 min) at start / end".into(),
        format!(
            "{} / {} (near or above the number of cores: other work shared the machine)",
            load_at_start.as_deref().unwrap_or("unknown"),
            load_average().as_deref().unwrap_or("unknown")
        ),
    ));
    machine.push((
        "command".into(),
        format!(
            "`cargo xtask bench` (what `./build.ps1 bench` runs), {:.1} minutes including the build",
            started.elapsed().as_secs_f64() / 60.0
        ),
    ));
    let figures = Figures {
        machine,
        criterion,
        load,
        put_load,
        dotnet,
        powershell,
        size,
    };
    let document = render(&figures)?;
    let path = root.join("docs").join("benchmarks.md");
    std::fs::write(&path, document).map_err(|e| format!("write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    match figures.powershell {
        PowerShellRun::Failed(why) => Err(format!("the PowerShell benchmark failed: {why}")),
        _ => Ok(()),
    }
}

/// The sizes that ship: this machine's native library as laid out (stripped, as packed) and the
/// package `Publish-PSResource` makes of the module (one RID here; CI's pack job makes the one with
/// all six and prints its size in the job summary). `{"unavailable": why}` for the package when
/// there is no PowerShell to pack it.
fn size(root: &Path, module: &layout::Module) -> Value {
    let library = std::fs::read_dir(module.native_dir())
        .ok()
        .and_then(|mut entries| entries.next())
        .and_then(|entry| entry.ok())
        .map(|entry| entry.path());
    let library_bytes = library
        .as_ref()
        .and_then(|path| std::fs::metadata(path).ok())
        .map(|meta| meta.len());
    let mut figures = serde_json::json!({
        "rid": module.rid,
        "libraryBytes": library_bytes,
    });
    let package = powershell::find(root).and_then(|pwsh| {
        let scratch = layout::cargo_target(root).join("bench").join("package");
        let _ = std::fs::remove_dir_all(&scratch);
        let nupkg = pack::pack(&pwsh, root, &module.dir, &scratch)?;
        let report = pack::check(&pwsh, root, &nupkg, false)?;
        let name = library
            .as_ref()
            .and_then(|path| path.file_name())
            .map(|name| format!("runtimes/{}/native/{}", module.rid, name.to_string_lossy()));
        let zipped = name.and_then(|name| compressed_size(&nupkg, &name));
        Ok(serde_json::json!({
            "bytes": report.bytes,
            "runtimes": report.runtimes,
            "libraryCompressedBytes": zipped,
        }))
    });
    figures["package"] = package.unwrap_or_else(|why| serde_json::json!({ "unavailable": why }));
    figures
}

/// How many bytes `name` takes inside the zip at `path`, compressed.
fn compressed_size(path: &Path, name: &str) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let mut archive = zip::ZipArchive::new(file).ok()?;
    let entry = archive.by_name(name).ok()?;
    Some(entry.compressed_size())
}

/// The emulator's write ceiling: `emulator_load --method put` over [`PUT_CONNECTIONS`]
/// connections against an emulator of each durability (`serve --durability`); the bulk figures
/// run against a relaxed one.
fn write_load(root: &Path, emulator_binary: &Path) -> Result<Value, String> {
    let mut figures = serde_json::Map::new();
    for durability in ["full", "relaxed"] {
        let emulator =
            emulator::Emulator::start_with(emulator_binary, &["--durability", durability])?;
        let token = emulator.token(TENANT, USER)?;
        let out = capture(
            Step::new("cargo", root)
                .args([
                    "bench",
                    "-p",
                    "mscommerce-core",
                    "--bench",
                    "emulator_load",
                    "--",
                ])
                .args(["--seconds", LOAD_SECONDS, "--connections", PUT_CONNECTIONS])
                .args(["--method", "put"])
                .env("MSCOMMERCE_BENCH_URI", &emulator.service_uri)
                .env("MSCOMMERCE_BENCH_TOKEN", &token),
        )?;
        figures.insert(
            durability.to_owned(),
            last_json(&out, "the emulator write benchmark")?,
        );
    }
    Ok(Value::Object(figures))
}

/// The figures of the emulator's write load, and the rate the bulk target needs of it: 25 times
/// the sequential loop's pace, `products / sequential seconds * ratio`.
fn put_load_values(v: &mut Values, put_load: &Value, products: f64, sequential_s: f64) {
    let needed = products / sequential_s * BULK_TARGET_RATIO;
    v.text("put_connections", PUT_CONNECTIONS)
        .text("put_needed_rps", format!("{needed:.0}"));
    for durability in ["full", "relaxed"] {
        let load = &put_load[durability];
        let rps = num(&load["rps"]);
        v.text(&format!("put_{durability}_rps"), format!("{rps:.0}"))
            .text(&format!("put_{durability}_p50"), ms(num(&load["p50_ms"])))
            .text(&format!("put_{durability}_p99"), ms(num(&load["p99_ms"])))
            .text(
                &format!("put_{durability}_errors"),
                load["errors"].to_string(),
            )
            .text(
                &format!("put_{durability}_headroom"),
                format!("{:.1}", rps / needed),
            );
    }
}

/// The memory benchmark's rows (PowerShell only), and whether what a bulk update adds grew
/// faster than its items: per item, the largest size against the smallest. Answers true when
/// that target was missed.
fn memory_values(v: &mut Values, memory: Option<&Value>) -> bool {
    let sizes = memory
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let per_item =
        |size: &Value| num(&size["addedMb"]).max(MEMORY_FLOOR_MB) / num(&size["products"]);
    let rows = sizes
        .iter()
        .map(|size| {
            let mut row = Values::new();
            row.text("memory_products", size["products"].to_string())
                .text(
                    "memory_before_mb",
                    format!("{:.1}", num(&size["peakBeforeMb"])),
                )
                .text(
                    "memory_after_mb",
                    format!("{:.1}", num(&size["peakAfterMb"])),
                )
                .text("memory_added_mb", format!("{:.1}", num(&size["addedMb"])))
                .text(
                    "memory_per_item_kb",
                    format!(
                        "{:.1}",
                        num(&size["addedMb"]) * 1024.0 / num(&size["products"])
                    ),
                )
                .text("memory_seconds", format!("{:.2}", num(&size["seconds"])));
            row
        })
        .collect();
    let growth = match (sizes.first(), sizes.last()) {
        (Some(small), Some(large)) if sizes.len() > 1 => per_item(large) / per_item(small),
        _ => f64::NAN,
    };
    let missed = growth > MEMORY_LINEAR_FACTOR;
    v.list("memory_rows", rows)
        .text("memory_growth", format!("{growth:.2}"))
        .text("memory_linear_factor", format!("{MEMORY_LINEAR_FACTOR}"))
        .text("memory_floor_mb", format!("{MEMORY_FLOOR_MB}"))
        .text("memory_result", verdict(!growth.is_nan() && !missed))
        .flag("memory_missed", missed);
    missed
}

/// The rows of a few products updated by the module's one command and by the sequential loop;
/// answers true when the module was slower than the loop at any size (the target: never).
fn small_bulk_values(v: &mut Values, small: &Value) -> bool {
    let sizes = small.as_array().cloned().unwrap_or_default();
    let mut missed = false;
    let rows = sizes
        .iter()
        .map(|size| {
            let (module_s, loop_s) = (num(&size["moduleS"]), num(&size["loopS"]));
            let slower = module_s > loop_s;
            missed |= slower;
            let mut row = Values::new();
            row.text("small_products", size["products"].to_string())
                .text("small_module_ms", ms(module_s * 1000.0))
                .text("small_loop_ms", ms(loop_s * 1000.0))
                .text("small_result", verdict(!slower));
            row
        })
        .collect();
    v.list("small_rows", rows).flag("small_missed", missed);
    missed
}

/// The last line of `out` that is a JSON object.
fn last_json(out: &str, what: &str) -> Result<Value, String> {
    out.lines()
        .rev()
        .map(str::trim)
        .filter(|line| line.starts_with('{'))
        .find_map(|line| serde_json::from_str(line).ok())
        .ok_or_else(|| format!("{what} printed no JSON figures"))
}

/// Every criterion result under `dir`: (id, median in ns, elements per iteration).
fn read_criterion(dir: &Path) -> Result<Vec<(String, f64, Option<u64>)>, String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n == "benchmark.json")
                && path.parent().and_then(Path::file_name) == Some("new".as_ref())
            {
                let read = |file: &Path| -> Result<Value, String> {
                    let text = std::fs::read_to_string(file)
                        .map_err(|e| format!("read {}: {e}", file.display()))?;
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))
                };
                let benchmark = read(&path)?;
                let estimates = read(&path.with_file_name("estimates.json"))?;
                let id = benchmark["full_id"].as_str().unwrap_or("?").to_owned();
                let median = estimates["median"]["point_estimate"]
                    .as_f64()
                    .ok_or_else(|| format!("{id}: no median in estimates.json"))?;
                found.push((id, median, benchmark["throughput"]["Elements"].as_u64()));
            }
        }
    }
    if found.is_empty() {
        return Err(format!("no criterion results under {}", dir.display()));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// The machine's description: CPU, cores, memory, OS, toolchains.
fn machine(root: &Path, dotnet: &Value, powershell: &PowerShellRun) -> Vec<(String, String)> {
    let first_line =
        |step: Step| output(step).and_then(|text| text.lines().next().map(|l| l.trim().to_owned()));
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = cpu_model().unwrap_or_else(|| "unknown".into());
    let memory = memory_bytes()
        .map(|bytes| format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64))
        .unwrap_or_else(|| "unknown".into());
    let os = os_name(dotnet);
    let rustc = first_line(Step::new("rustc", root).arg("-V")).unwrap_or_else(|| "?".into());
    let sdk = first_line(Step::new("dotnet", root).arg("--version")).unwrap_or_else(|| "?".into());
    let pwsh = match powershell {
        PowerShellRun::Measured(figures) => format!(
            "{} {}",
            figures["psEdition"].as_str().unwrap_or(""),
            figures["psVersion"].as_str().unwrap_or("?")
        ),
        PowerShellRun::Failed(_) => "found, but its benchmark failed".into(),
        PowerShellRun::Absent => "none: `dotnet tool restore` could not bring the pinned PowerShell and no `pwsh` is on PATH".into(),
    };
    vec![
        ("date (UTC)".into(), today()),
        ("CPU".into(), format!("{cpu}, {cores} logical cores")),
        ("memory".into(), memory),
        ("OS".into(), os),
        ("Rust".into(), rustc),
        (
            ".NET".into(),
            format!(
                "SDK {sdk}, runtime {}",
                dotnet["dotnet"].as_str().unwrap_or("?")
            ),
        ),
        ("PowerShell".into(), pwsh),
    ]
}

fn cpu_model() -> Option<String> {
    if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
        return info
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned());
    }
    if cfg!(target_os = "macos") {
        return output(
            Step::new("sysctl", Path::new(".")).args(["-n", "machdep.cpu.brand_string"]),
        )
        .map(|s| s.trim().to_owned());
    }
    std::env::var("PROCESSOR_IDENTIFIER").ok()
}

fn memory_bytes() -> Option<u64> {
    if let Ok(info) = std::fs::read_to_string("/proc/meminfo") {
        let kib: u64 = info
            .lines()
            .find(|l| l.starts_with("MemTotal:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        return Some(kib * 1024);
    }
    if cfg!(target_os = "macos") {
        return output(Step::new("sysctl", Path::new(".")).args(["-n", "hw.memsize"]))
            .and_then(|s| s.trim().parse().ok());
    }
    None
}

fn os_name(dotnet: &Value) -> String {
    let described = dotnet["os"]
        .as_str()
        .unwrap_or(std::env::consts::OS)
        .to_owned();
    let kernel = if cfg!(unix) {
        output(Step::new("uname", Path::new(".")).args(["-srm"])).map(|s| s.trim().to_owned())
    } else {
        None
    };
    match kernel {
        Some(kernel) => format!("{described} ({kernel})"),
        None => format!("{described} ({})", std::env::consts::ARCH),
    }
}

/// The 1-minute load average (Linux), as text.
fn load_average() -> Option<String> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
}

/// Today's date in UTC, `YYYY-MM-DD`.
fn today() -> String {
    let days = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A number of the JSON, or NaN.
fn num(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

/// Milliseconds for tables: `0.64 ms`, `19.2 ms`, `250 ms`.
fn ms(value: f64) -> String {
    if value.is_nan() {
        "?".into()
    } else if value.abs() >= 100.0 {
        format!("{value:.0} ms")
    } else if value.abs() >= 10.0 {
        format!("{value:.1} ms")
    } else {
        format!("{value:.2} ms")
    }
}

/// Milliseconds as a bare number with two decimals.
fn fixed(value: f64) -> String {
    if value.is_nan() {
        "?".into()
    } else {
        format!("{value:.2}")
    }
}

/// A criterion median (ns) in a readable unit.
fn duration_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "**met**"
    } else {
        "**missed**"
    }
}

/// What the document says in place of a PowerShell figure on a machine without PowerShell.
const NO_POWERSHELL: &str = "not measured on this machine: no PowerShell";

/// The document's prose, with a named place for each figure (the template's first line says how
/// it is filled).
const TEMPLATE: &str = include_str!("../../docs/benchmarks.template.md");

/// The document: the template filled with the figures.
fn render(f: &Figures) -> Result<String, String> {
    template::render(TEMPLATE, &values(f)).map_err(|e| format!("docs/benchmarks.template.md: {e}"))
}

/// The figures, formatted, and the verdicts, under the names the template uses.
fn values(f: &Figures) -> Values {
    let net = &f.dotnet;
    let ps = match &f.powershell {
        PowerShellRun::Measured(figures) => Some(figures),
        _ => None,
    };
    let mut v = Values::new();
    let mut any_missed = false;

    v.flag("powershell", ps.is_some())
        .text("no_powershell", NO_POWERSHELL)
        .text(
            "ps_missing",
            match &f.powershell {
                PowerShellRun::Failed(why) => {
                    format!("not measured: the PowerShell benchmark failed ({why})")
                }
                _ => NO_POWERSHELL.to_owned(),
            },
        );

    // Machine and settings.
    let machine = f
        .machine
        .iter()
        .map(|(name, value)| {
            let mut row = Values::new();
            row.text("machine_name", name).text("machine_value", value);
            row
        })
        .collect();
    v.list("machine", machine)
        .text("criterion_args", CRITERION_ARGS.join(" "))
        .text("load_seconds", LOAD_SECONDS)
        .text("load_connections", LOAD_CONNECTIONS)
        .text("import_runs", IMPORT_RUNS)
        .text("calls", CALLS)
        .text("bulk", BULK)
        .text("latency_ms", LATENCY_MS)
        .text("import_target_ms", format!("{IMPORT_TARGET_MS:.0}"))
        .text("import_target_mb", format!("{IMPORT_TARGET_MB:.0}"))
        .text("call_target_ms", format!("{CALL_TARGET_MS:.0}"))
        .text("bulk_target_ratio", format!("{BULK_TARGET_RATIO:.0}"));

    // Import.
    let import = &net["import"];
    let proxy_ms = num(&import["medianMs"]);
    let proxy_mb = num(&import["workingSetMb"]);
    v.text("proxy_import_runs", import["runs"].to_string())
        .text("proxy_import_ms", ms(proxy_ms))
        .text("proxy_assembly_ms", ms(num(&import["assemblyMs"])))
        .text("proxy_native_ms", ms(num(&import["nativeAndClientMs"])))
        .text(
            "proxy_import_ms_result",
            verdict(proxy_ms < IMPORT_TARGET_MS),
        )
        .text(
            "proxy_private_mb",
            format!("{:.1}", num(&import["privateMb"])),
        )
        .text("proxy_import_mb", format!("{proxy_mb:.1}"))
        .text(
            "proxy_import_mb_result",
            verdict(proxy_mb < IMPORT_TARGET_MB),
        )
        .text("proxy_import_samples", join_numbers(&import["samplesMs"]));
    let (import_ms, import_mb, import_basis) = match ps {
        Some(ps) => (
            num(&ps["import"]["medianMs"]),
            num(&ps["import"]["workingSetMb"]),
            "PowerShell",
        ),
        None => (proxy_ms, proxy_mb, "proxy"),
    };
    let ps_import = ps.map(|ps| &ps["import"]).unwrap_or(&Value::Null);
    v.text(
        "ps_version",
        ps.and_then(|ps| ps["psVersion"].as_str()).unwrap_or("?"),
    )
    .text("ps_import_runs", ps_import["runs"].to_string())
    .text("ps_import_ms", ms(import_ms))
    .text(
        "ps_import_ms_result",
        verdict(import_ms <= IMPORT_TARGET_MS),
    )
    .text(
        "ps_import_private_mb",
        format!("{:.1}", num(&ps_import["privateMb"])),
    )
    .text("ps_import_mb", format!("{import_mb:.1}"))
    .text(
        "ps_import_mb_result",
        verdict(import_mb <= IMPORT_TARGET_MB),
    )
    .text("ps_import_samples", join_numbers(&ps_import["samplesMs"]))
    .text("import_basis", import_basis)
    .text("import_ms", ms(import_ms))
    .text("import_mb", format!("{import_mb:.1}"))
    .flag("import_ms_missed", import_ms > IMPORT_TARGET_MS)
    .flag("import_mb_missed", import_mb > IMPORT_TARGET_MB);
    any_missed |= import_ms > IMPORT_TARGET_MS || import_mb > IMPORT_TARGET_MB;
    let breakdown = &ps_import["breakdown"];
    for (tag, key) in [
        ("empty", "emptyManifest"),
        ("dll", "dllAlone"),
        ("noformat", "manifestNoFormat"),
        ("path", "manifestByPath"),
    ] {
        v.text(
            &format!("ps_import_{tag}_ms"),
            ms(num(&breakdown[key]["medianMs"])),
        )
        .text(
            &format!("ps_import_{tag}_mb"),
            format!("{:.1}", num(&breakdown[key]["workingSetMb"])),
        );
    }
    v.text(
        "ps_import_breakdown_runs",
        breakdown["dllAlone"]["runs"].to_string(),
    );

    // One call: PowerShell's, then the proxies', which are judged only without PowerShell.
    let ps_call = ps.map(|ps| &ps["call"]).unwrap_or(&Value::Null);
    let ps_diff = num(&ps_call["differenceMs"]);
    let ps_call_missed = ps.is_some() && ps_diff > CALL_TARGET_MS;
    v.text("ps_call_items", ps_call["items"].to_string())
        .text("ps_call_module_ms", ms(num(&ps_call["moduleMedianMs"])))
        .text("ps_call_raw_ms", ms(num(&ps_call["rawMedianMs"])))
        .text("ps_call_difference", ms(ps_diff))
        .text("ps_call_result", verdict(ps_diff <= CALL_TARGET_MS))
        .flag("ps_call_missed", ps_call_missed);
    any_missed |= ps_call_missed;
    let ps_large = ps.map(|ps| &ps["callLarge"]).unwrap_or(&Value::Null);
    let ps_large_diff = num(&ps_large["differenceMs"]);
    let ps_large_missed = ps.is_some() && ps_large_diff > CALL_LARGE_TARGET_MS;
    v.text("ps_call_large_items", ps_large["items"].to_string())
        .text(
            "ps_call_large_module_ms",
            ms(num(&ps_large["moduleMedianMs"])),
        )
        .text("ps_call_large_raw_ms", ms(num(&ps_large["rawMedianMs"])))
        .text("ps_call_large_difference", ms(ps_large_diff))
        .text(
            "ps_call_large_result",
            verdict(ps_large_diff <= CALL_LARGE_TARGET_MS),
        )
        .text("call_large_target_ms", format!("{CALL_LARGE_TARGET_MS:.0}"))
        .flag("ps_call_large_missed", ps_large_missed);
    any_missed |= ps_large_missed;
    let decode_1000 = f
        .criterion
        .iter()
        .find(|(id, _, _)| id == "decode/product_list/1000")
        .map(|(_, median, _)| duration_ns(*median))
        .unwrap_or_else(|| "?".into());
    v.text("decode_1000", decode_1000);
    let calls = net["call"].as_array().cloned().unwrap_or_default();
    let mut proxy_calls = Vec::new();
    for (index, call) in calls.iter().enumerate() {
        let diff = num(&call["differenceMs"]);
        let judged = ps.is_none();
        let missed = judged && diff > CALL_TARGET_MS;
        any_missed |= missed;
        let raw = num(&call["rawMedianMs"]);
        let mut row = Values::new();
        row.text("call_items", call["items"].to_string())
            .text("call_module_ms", ms(num(&call["moduleMedianMs"])))
            .text("call_raw_ms", ms(raw))
            .text("call_raw_bytes_ms", ms(num(&call["rawBytesMedianMs"])))
            .text("call_difference", ms(diff))
            .text(
                "call_result",
                if judged {
                    verdict(diff <= CALL_TARGET_MS)
                } else {
                    "—"
                },
            )
            .text("call_module_gc_ms", fixed(num(&call["moduleGcMsPerCall"])))
            .text("call_raw_gc_ms", fixed(num(&call["rawGcMsPerCall"])))
            .flag("call_first", index == 0)
            .flag("call_last", index + 1 == calls.len())
            .flag("call_missed", missed);
        // The profile of this call, for the paragraph on a missed target.
        let profile = &net["callProfile"][index];
        let profiled = !profile.is_null() && !profile["unavailable"].is_string();
        let native = num(&profile["nativeMs"]);
        let plumbing = num(&profile["shimCallMs"]);
        let decode = num(&profile["shimDecodeMs"]);
        row.flag("call_profiled", profiled)
            .text("call_profile_module_ms", ms(num(&profile["moduleMs"])))
            .text("call_profile_native_ms", ms(native))
            .text("call_native_over_raw", ms(native - raw))
            .text("call_shim_decoding_ms", ms(decode))
            .text("call_profile_plumbing_ms", ms(plumbing))
            .text("call_shim_ms", ms(plumbing + decode));
        proxy_calls.push(row);
    }
    v.list("proxy_calls", proxy_calls);
    let profiles = net["callProfile"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|profile| {
            let mut row = Values::new();
            match profile["unavailable"].as_str() {
                Some(reason) => {
                    row.flag("profile_unavailable", true)
                        .text("profile_reason", reason);
                }
                None => {
                    row.flag("profile_unavailable", false)
                        .text("profile_items", profile["items"].to_string())
                        .text("profile_module_ms", ms(num(&profile["moduleMs"])))
                        .text("profile_native_ms", ms(num(&profile["nativeMs"])))
                        .text("profile_plumbing_ms", ms(num(&profile["shimCallMs"])))
                        .text("profile_decode_ms", ms(num(&profile["shimDecodeMs"])));
                }
            }
            row
        })
        .collect();
    v.list("profiles", profiles);

    // Bulk: PowerShell's ratio is judged where it ran, the proxy's otherwise.
    let bulk = &net["bulk"];
    let ps_bulk = ps.map(|ps| &ps["bulk"]).unwrap_or(&Value::Null);
    let ps_ratio = num(&ps_bulk["speedupVsSequential"]);
    v.text("bulk_products", bulk["products"].to_string())
        .text("bulk_latency_ms", bulk["latencyMs"].to_string())
        .text("ps_bulk_s", format!("{:.2}", num(&ps_bulk["moduleBulkS"])))
        .text(
            "ps_sequential_s",
            format!("{:.2}", num(&ps_bulk["sequentialRawS"])),
        )
        .text("ps_bulk_ratio", format!("{ps_ratio:.1}"))
        .text("ps_bulk_result", verdict(ps_ratio >= BULK_TARGET_RATIO))
        .text(
            "ps_per_product_s",
            format!("{:.2}", num(&ps_bulk["modulePerProductS"])),
        )
        .text(
            "ps_per_product_ratio",
            format!("{:.1}", num(&ps_bulk["speedupVsPerProduct"])),
        );
    let bulk_s = num(&bulk["moduleBulkS"]);
    let sequential_s = num(&bulk["sequentialRawS"]);
    let ratio = num(&bulk["speedupVsSequential"]);
    let bulk8 = num(&bulk["moduleBulk8S"]);
    let limit = num(&bulk["throttleLimit"]);
    v.text("bulk_throttle_limit", limit.to_string())
        .text("bulk_runs", join_numbers(&bulk["moduleBulkRunsS"]))
        .text("bulk_s", format!("{bulk_s:.2}"))
        .text("bulk_sequential_s", format!("{sequential_s:.2}"))
        .text("bulk_ratio", format!("{ratio:.1}"))
        .text(
            "bulk_result",
            if ps.is_none() {
                verdict(ratio >= BULK_TARGET_RATIO)
            } else {
                "—"
            },
        )
        .text(
            "bulk_per_product_s",
            format!("{:.2}", num(&bulk["modulePerProductS"])),
        )
        .text(
            "bulk_per_product_ratio",
            format!("{:.1}", num(&bulk["speedupVsPerProduct"])),
        )
        .text("bulk8_s", format!("{bulk8:.2}"))
        .text("bulk8_ratio", format!("{:.1}", sequential_s / bulk8));
    let (basis, judged_ratio) = match ps {
        Some(_) => ("PowerShell", ps_ratio),
        None => ("proxy", ratio),
    };
    let mut bulk_missed = Vec::new();
    if judged_ratio < BULK_TARGET_RATIO {
        let mut row = Values::new();
        row.text("bulk_basis", basis)
            .text("bulk_missed_ratio", format!("{judged_ratio:.1}"));
        bulk_missed.push(row);
    }
    any_missed |= !bulk_missed.is_empty();
    v.list("bulk_missed", bulk_missed)
        .text("bulk_limit", format!("{limit:.0}"))
        .text(
            "bulk_per_request_ms",
            format!("{:.1}", sequential_s / num(&bulk["products"]) * 1000.0),
        );

    // Size.
    let size = &f.size;
    let library_mb = num(&size["libraryBytes"]) / 1_048_576.0;
    let library_missed = library_mb > LIBRARY_TARGET_MB;
    any_missed |= library_missed;
    let package = &size["package"];
    let packed = package["unavailable"].as_str().is_none();
    let package_mb = num(&package["bytes"]) / 1_048_576.0;
    let zipped_mb = num(&package["libraryCompressedBytes"]) / 1_048_576.0;
    v.text("size_rid", size["rid"].as_str().unwrap_or("?"))
        .text("size_library_mb", format!("{library_mb:.2}"))
        .text("size_library_target_mb", format!("{LIBRARY_TARGET_MB:.0}"))
        .text("size_library_result", verdict(!library_missed))
        .flag("size_library_missed", library_missed)
        .flag("size_packed", packed)
        .text(
            "size_unpacked_reason",
            package["unavailable"].as_str().unwrap_or_default(),
        )
        .text("size_package_mb", format!("{package_mb:.2}"))
        .text("size_library_zipped_mb", format!("{zipped_mb:.2}"))
        .text(
            "size_six_rids_mb",
            format!("{:.1}", package_mb + 5.0 * zipped_mb),
        );
    // The emulator's writes, against the pace the bulk target asks for (PowerShell's loop where
    // it ran, the proxy's otherwise).
    let loop_s = if ps.is_some() {
        num(&ps_bulk["sequentialRawS"])
    } else {
        sequential_s
    };
    put_load_values(&mut v, &f.put_load, num(&bulk["products"]), loop_s);
    any_missed |= memory_values(&mut v, ps.map(|ps| &ps["memory"]));
    any_missed |= small_bulk_values(&mut v, &ps_bulk["small"]);

    // Emulator.
    let load = &f.load;
    v.text("load_connections_used", load["connections"].to_string())
        .text("load_items", load["items"].to_string())
        .text("load_seconds_used", load["seconds"].to_string())
        .text("load_rps", format!("{:.0}", num(&load["rps"])))
        .text("load_p50", ms(num(&load["p50_ms"])))
        .text("load_p99", ms(num(&load["p99_ms"])))
        .text("load_requests", load["requests"].to_string())
        .text("load_errors", load["errors"].to_string());

    // Criterion.
    let criterion = f
        .criterion
        .iter()
        .map(|(id, median, elements)| {
            let per_item = elements
                .filter(|n| *n > 0)
                .map(|n| duration_ns(median / n as f64))
                .unwrap_or_default();
            let mut row = Values::new();
            row.text("criterion_id", id)
                .text("criterion_median", duration_ns(*median))
                .text("criterion_per_item", per_item);
            row
        })
        .collect();
    v.list("criterion", criterion);

    v.flag("any_missed", any_missed);
    v
}

fn join_numbers(values: &Value) -> String {
    values
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn last_json_takes_the_last_object_line() {
        let out = "build output\n{\"a\":1}\nnoise\n{\"a\":2}\ntrailing text\n";
        assert_eq!(last_json(out, "x").unwrap()["a"], 2);
        assert!(last_json("nothing", "x").is_err());
    }

    #[test]
    fn today_is_a_date() {
        let date = today();
        assert_eq!(date.len(), 10);
        assert!(date.starts_with("20"));
    }

    #[test]
    fn milliseconds_read_well() {
        assert_eq!(ms(0.643), "0.64 ms");
        assert_eq!(ms(19.24), "19.2 ms");
        assert_eq!(ms(250.4), "250 ms");
        assert_eq!(duration_ns(763.0), "763 ns");
        assert_eq!(duration_ns(572_240.0), "572.2 µs");
        assert_eq!(duration_ns(3_304_200.0), "3.30 ms");
    }

    /// Figures like a real run's: with or without PowerShell, meeting the targets or (slow)
    /// missing every one.
    fn sample(ps: bool, slow: bool) -> Figures {
        let k = if slow { 100.0 } else { 1.0 };
        let dotnet = json!({
            "dotnet": "10.0.12", "os": "Debian",
            "import": {"runs": 15, "medianMs": 40.5 * k, "workingSetMb": 12.25 * k, "privateMb": 5.5, "assemblyMs": 10.0, "nativeAndClientMs": 20.0, "samplesMs": [40.1, 41.2]},
            "call": [
                {"items": 17, "moduleMedianMs": 1.66 * k, "rawMedianMs": 0.56, "rawBytesMedianMs": 0.48, "differenceMs": 1.09 * k, "moduleGcMsPerCall": 0.0, "rawGcMsPerCall": 0.0},
                {"items": 1017, "moduleMedianMs": 9.87, "rawMedianMs": 2.6, "rawBytesMedianMs": 2.16, "differenceMs": 7.27, "moduleGcMsPerCall": 0.65, "rawGcMsPerCall": 0.29}
            ],
            "callProfile": [
                {"items": 17, "moduleMs": 1.75, "nativeMs": 0.77, "shimCallMs": 0.47, "shimDecodeMs": 0.05},
                {"unavailable": "no reflection"}
            ],
            "bulk": {"products": 1000, "latencyMs": 5, "moduleBulkS": 0.54, "sequentialRawS": 7.35, "speedupVsSequential": 27.5 / k, "modulePerProductS": 7.78, "speedupVsPerProduct": 14.5, "moduleBulk8S": 1.01, "throttleLimit": 64, "moduleBulkRunsS": [0.527, 0.566, 0.537]}
        });
        let powershell = if ps {
            PowerShellRun::Measured(json!({
                "psEdition": "Core", "psVersion": "7.6.9",
                "import": {"runs": 15, "medianMs": 51.3 * k, "workingSetMb": 8.7 * k, "privateMb": 5.4, "samplesMs": [59.44, 51.23],
                    "breakdown": {
                        "emptyManifest": {"runs": 8, "medianMs": 40.0, "workingSetMb": 3.0},
                        "dllAlone": {"runs": 8, "medianMs": 45.0, "workingSetMb": 3.1},
                        "manifestNoFormat": {"runs": 8, "medianMs": 60.0, "workingSetMb": 5.1},
                        "manifestByPath": {"runs": 8, "medianMs": 75.0, "workingSetMb": 8.1}
                    }},
                "call": {"items": 17, "moduleMedianMs": 1.75, "rawMedianMs": 2.08, "differenceMs": -0.33 * k * k},
                "callLarge": {"items": 1017, "moduleMedianMs": 20.0, "rawMedianMs": 30.0, "differenceMs": -10.0 * k * k},
                "bulk": {"moduleBulkS": 0.67, "sequentialRawS": 8.06, "speedupVsSequential": 27.0 / k, "modulePerProductS": 8.09, "speedupVsPerProduct": 12.1},
                "memory": [
                    {"products": 1000, "peakBeforeMb": 120.5, "peakAfterMb": 131.0, "addedMb": 10.5, "seconds": 0.4},
                    {"products": 10000, "peakBeforeMb": 120.7, "peakAfterMb": 120.7 + 80.0 * k, "addedMb": 80.0 * k, "seconds": 3.9}
                ]
            }))
        } else if slow {
            PowerShellRun::Failed("it broke".into())
        } else {
            PowerShellRun::Absent
        };
        Figures {
            machine: vec![
                ("CPU".into(), "x, 2 cores".into()),
                ("OS".into(), "Linux".into()),
            ],
            criterion: vec![
                ("decode/product_list/1000".into(), 1_520_000.0, Some(1000)),
                ("request/get".into(), 1100.0, None),
            ],
            load: json!({"connections": 16, "items": 17, "seconds": 5.0, "rps": 5134.2, "p50_ms": 2.92, "p99_ms": 6.95, "requests": 25693, "errors": 0}),
            put_load: json!({
                "full": {"connections": 64, "rps": 1052.0, "p50_ms": 53.9, "p99_ms": 158.7, "requests": 4294, "errors": 0},
                "relaxed": {"connections": 64, "rps": 2800.0, "p50_ms": 18.8, "p99_ms": 56.6, "requests": 11246, "errors": 0}
            }),
            dotnet,
            powershell,
            size: if slow {
                json!({"rid": "linux-x64", "libraryBytes": 9_000_000, "package": {"unavailable": "no PowerShell"}})
            } else {
                json!({"rid": "linux-x64", "libraryBytes": 4_800_000, "package": {"bytes": 2_500_000, "runtimes": ["linux-x64"], "libraryCompressedBytes": 2_000_000}})
            },
        }
    }

    #[test]
    fn the_template_takes_every_figure_and_names_no_other() {
        for (ps, slow) in [(true, false), (false, false), (true, true), (false, true)] {
            let document = render(&sample(ps, slow)).unwrap();
            assert!(!document.contains("{{"), "{document}");
            assert!(document.starts_with("# Benchmarks\n"));
            for heading in [
                "## 1. Module import",
                "## 5. The core's hot paths (criterion)",
                "## 6. Size",
            ] {
                assert!(document.contains(heading), "{heading}");
            }
            assert_eq!(document.contains("**This run had no PowerShell**"), !ps);
            // The proxies' one call misses its target even in the quick sample.
            assert_eq!(
                document.contains("None: every target was met in this run."),
                ps && !slow
            );
        }
        let slow = render(&sample(false, true)).unwrap();
        assert!(slow.contains("- **Bulk (proxy) was 0.3x faster than the sequential loop"));
        assert!(slow.contains("the seeded tenant is the issue's case"));
        assert!(slow.contains("not measured: the PowerShell benchmark failed (it broke)"));
    }

    #[test]
    fn memory_that_grows_faster_than_the_items_is_a_missed_target() {
        let linear = render(&sample(true, false)).unwrap();
        assert!(!linear.contains("- **Memory of a bulk update grew"));
        let growing = render(&sample(true, true)).unwrap();
        assert!(
            growing.contains("- **Memory of a bulk update grew 76.19 times faster"),
            "{growing}"
        );
    }

    #[test]
    fn a_figure_the_template_does_not_name_or_a_name_without_a_figure_fails() {
        let figures = sample(true, false);
        let mut extra = values(&figures);
        extra.text("a_new_figure", "1 ms");
        assert!(template::render(TEMPLATE, &extra)
            .unwrap_err()
            .contains("never names a_new_figure"));
        let unfilled = format!("{TEMPLATE}\n{{{{a_figure_nobody_measures}}}}\n");
        assert!(template::render(&unfilled, &values(&figures))
            .unwrap_err()
            .contains("a_figure_nobody_measures, which has no value"));
    }
}
