//! The build, test and demo driver: `cargo xtask <verb>`, and what `build.ps1` runs.
//!
//! It lives in Rust, beside the code it builds; where PowerShell has a tool of its own (the gallery
//! package, reading a manifest), the xtask runs that tool in the PowerShell `powershell::find`
//! gives. xtask/README.md says where each part is.

mod bench;
mod binary;
mod emulator;
mod layout;
mod manifest;
mod net472;
mod pack;
mod powershell;
mod process;
mod secrets;
mod template;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use process::{run, run_captured, Step};

const USAGE: &str = "usage: cargo xtask <verb>

verbs:
  build    build the core (release), the emulator and the shim; lay out out/MSCommerce/<version>/
  test     build, then run every test suite (Rust, interop, .NET, net472, package, PowerShell)
             [SUITE...]   only these: rust, interop, dotnet, net472, package, powershell
                          (the secret scan always runs)
  demo     build, start the emulator, show the policy and the products, stop the emulator
  bench    build, run every benchmark (core, emulator, .NET, PowerShell where installed) and
           write docs/benchmarks.md
  pack     build, then write (Publish-PSResource) and check the gallery package
           out/MSCommerce.<version>.nupkg; needs PowerShell
             --no-build   pack out/MSCommerce/<version>/ as it is (CI signs it first)
             --all-rids   fail unless all six runtimes are in the package (the release)
           $MSCOMMERCE_RUNTIMES_DIR/<rid>/<library>: other machines' native libraries to include
  header   regenerate rust-core/mscommerce.h from the source (cbindgen)
  clean    remove out/ (cargo clean removes target/)";

fn main() -> ExitCode {
    let verb = std::env::args().nth(1).unwrap_or_default();
    let options: Vec<String> = std::env::args().skip(2).collect();
    let root = workspace_root();
    if !matches!(verb.as_str(), "pack" | "test") && !options.is_empty() {
        eprintln!("xtask {verb}: unexpected arguments {options:?}\n\n{USAGE}");
        return ExitCode::FAILURE;
    }
    let outcome = match verb.as_str() {
        "build" => layout::build(&root).map(|module| {
            println!("module laid out in {}", module.dir.display());
        }),
        "test" => test(&root, &options),
        "demo" => demo(&root),
        "bench" => bench::run(&root),
        "pack" => pack_verb(&root, &options),
        "header" => run(Step::new("cargo", &root)
            .args([
                "test",
                "--quiet",
                "-p",
                "mscommerce-core",
                "--test",
                "header",
            ])
            .env("MSCOMMERCE_UPDATE_HEADER", "1")),
        "clean" => std::fs::remove_dir_all(root.join("out"))
            .or_else(ignore_missing)
            .map_err(|e| e.to_string()),
        "" | "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown verb '{other}'\n\n{USAGE}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {verb}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn ignore_missing(error: std::io::Error) -> std::io::Result<()> {
    if error.kind() == std::io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(error)
    }
}

fn workspace_root() -> PathBuf {
    // xtask/ sits in the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every suite, in order of cost, each with the test run's own token cache and browser, and
/// all of them printing into one transcript that is scanned for the secrets the emulator issued.
/// A failing suite does not stop the others; the verb fails if any failed.
fn test(root: &Path, only: &[String]) -> Result<(), String> {
    if let Some(unknown) = only.iter().find(|name| !SUITES.contains(&name.as_str())) {
        return Err(format!("unknown suite '{unknown}'\n\n{USAGE}"));
    }
    let wanted = |suite: &str| only.is_empty() || only.iter().any(|name| name == suite);
    let module = layout::build(root)?;
    let native_dir = module.native_dir();
    let emulator = layout::emulator_binary(root);
    let run_dir = layout::cargo_target(root).join("test-run");
    let _ = std::fs::remove_dir_all(&run_dir);
    std::fs::create_dir_all(&run_dir).map_err(|e| format!("{}: {e}", run_dir.display()))?;
    let secrets_log = run_dir.join("issued-secrets.log");
    // Every suite gets these: the token cache is a folder of the run's own (never the user's
    // secret store), the sign-in browser is a program that opens nothing, and the emulators the
    // suites start journal the secrets they issue.
    let isolated = |step: Step| {
        let step = step
            .env("MSCOMMERCE_TOKEN_CACHE", "file")
            .env("MSCOMMERCE_TOKEN_CACHE_DIR", run_dir.join("token-cache"))
            .env("MSCOMMERCE_EMULATOR_SECRETS_LOG", &secrets_log);
        if cfg!(unix) {
            step.env("MSCOMMERCE_BROWSER", "true")
        } else {
            step
        }
    };
    let mut transcript = Vec::new();
    let mut results: Suites = Vec::new();

    if wanted("rust") {
        results.push((
            "rust (core, emulator, xtask)",
            run_captured(
                isolated(Step::new("cargo", root).args([
                    "test",
                    "--profile",
                    TEST_PROFILE,
                    "--workspace",
                    "--exclude",
                    "mscommerce-interop-tests",
                ])),
                &mut transcript,
            ),
        ));
    }
    if wanted("interop") {
        results.push((
            "interop (.NET hosted from Rust)",
            run_captured(
                isolated(
                    Step::new("cargo", root)
                        .args([
                            "test",
                            "--profile",
                            TEST_PROFILE,
                            "-p",
                            "mscommerce-interop-tests",
                        ])
                        .env("MSCOMMERCE_MODULE_DIR", &module.dir)
                        .env("MSCOMMERCE_EMULATOR", &emulator),
                ),
                &mut transcript,
            ),
        ));
    }
    if wanted("dotnet") {
        results.push((
            ".NET (shim: loader, envelope, live client)",
            run_captured(
                isolated(
                    Step::new("dotnet", root)
                        .args([
                            "test",
                            "tests/MSCommerce.Tests/MSCommerce.Tests.csproj",
                            "-c",
                            "Release",
                            "--nologo",
                        ])
                        .env("MSCOMMERCE_NATIVE_DIR", &native_dir)
                        .env("MSCOMMERCE_EMULATOR", &emulator),
                ),
                &mut transcript,
            ),
        ));
    }
    if wanted("net472") {
        match net472::check(root, &mut transcript) {
            Ok(net472::Outcome::Passed) => {
                results.push(("net472 compile check (Windows PowerShell 5.1)", Ok(())))
            }
            Ok(net472::Outcome::Skipped(why)) => println!("SKIPPED: net472 compile check: {why}"),
            Err(why) => results.push(("net472 compile check (Windows PowerShell 5.1)", Err(why))),
        }
    }
    // PowerShell makes the package, and the install test of the PowerShell suite installs it,
    // so it is made for either.
    let pwsh = (wanted("package") || wanted("powershell")).then(|| powershell::find(root));
    let package = match &pwsh {
        Some(Ok(pwsh)) => Some(
            pack::pack(pwsh, root, &module.dir, &root.join("out"))
                .and_then(|nupkg| pack::check(pwsh, root, &nupkg, false)),
        ),
        Some(Err(why)) => Some(Err(format!("no PowerShell to pack with: {why}"))),
        None => None,
    };
    match &package {
        Some(Ok(report)) => report.lines().iter().for_each(|line| println!("{line}")),
        Some(Err(why)) => println!("{why}"),
        None => {}
    }
    if let (true, Some(package)) = (wanted("package"), &package) {
        results.push((
            "package (.nupkg: nuspec, files, stripped libraries)",
            package.as_ref().map(|_| ()).map_err(Clone::clone),
        ));
    }
    let target = layout::cargo_target(root);
    let pester_suite = "PowerShell (Pester: tests/powershell, the module in a real host)";
    match pwsh.filter(|_| wanted("powershell")) {
        None => {}
        Some(Ok(pwsh)) => {
            let result_file = root.join("out").join("test-results").join("pester.xml");
            let outcome = powershell::restore_modules(root, &target).and_then(|modules| {
                let mut step = isolated(powershell::pester(
                    &pwsh,
                    root,
                    &modules,
                    "tests/powershell",
                    &result_file,
                ))
                .env("MSCOMMERCE_MODULE_DIR", &module.dir)
                .env("MSCOMMERCE_EMULATOR", &emulator);
                if let Some(Ok(report)) = &package {
                    step = step.env("MSCOMMERCE_PACKAGE", &report.path);
                }
                run_captured(step, &mut transcript)
            });
            println!("Pester results: {}", result_file.display());
            results.push((pester_suite, outcome));
        }
        // Under CI a missing PowerShell fails the run: a skip would let a broken cmdlet land.
        Some(Err(why)) if std::env::var_os("CI").is_some() => {
            results.push((pester_suite, Err(why)))
        }
        Some(Err(why)) => println!("SKIPPED: {pester_suite}: {why}"),
    }
    results.push((
        "secret scan (no issued secret in any output)",
        secrets::scan(&secrets_log, &transcript),
    ));
    let _ = std::fs::remove_dir_all(&run_dir);

    let failed: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
    println!();
    for (suite, result) in &results {
        println!(
            "{:>6}  {suite}",
            if result.is_ok() { "ok" } else { "FAILED" }
        );
        if let Err(why) = result {
            println!("        {why}");
        }
    }
    println!(
        "suites: {} passed, {} failed",
        results.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} suite(s) failed", failed.len()))
    }
}

/// The suites `cargo xtask test` can be limited to.
const SUITES: &[&str] = &[
    "rust",
    "interop",
    "dotnet",
    "net472",
    "package",
    "powershell",
];

/// The cargo profile of the Rust test suites (the workspace's Cargo.toml says why).
const TEST_PROFILE: &str = "release-test";

type Suites = Vec<(&'static str, Result<(), String>)>;

/// `cargo xtask pack [--no-build] [--all-rids]`.
fn pack_verb(root: &Path, options: &[String]) -> Result<(), String> {
    let mut build = true;
    let mut all_rids = false;
    for option in options {
        match option.as_str() {
            "--no-build" => build = false,
            "--all-rids" => all_rids = true,
            other => return Err(format!("unknown option '{other}'\n\n{USAGE}")),
        }
    }
    let module = if build {
        layout::build(root)?
    } else {
        layout::laid_out(root)?
    };
    let pwsh = powershell::find(root).map_err(|why| {
        format!("PowerShell makes the package (Publish-PSResource) and reads its manifest: {why}")
    })?;
    let nupkg = pack::pack(&pwsh, root, &module.dir, &root.join("out"))?;
    let report = pack::check(&pwsh, root, &nupkg, all_rids)?;
    let lines = report.lines();
    lines.iter().for_each(|line| println!("{line}"));
    // On GitHub Actions the job summary shows the package and its size.
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        use std::io::Write;
        let text = format!("```\n{}\n```\n", lines.join("\n"));
        let _ = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(summary)
            .and_then(|mut file| file.write_all(text.as_bytes()));
    }
    Ok(())
}

/// The emulator's seeded default tenant and its global administrator.
const DEMO_TENANT: &str = "contoso.onmicrosoft.com";
const DEMO_USER: &str = "admin@contoso.onmicrosoft.com";

/// Builds, starts the emulator, shows the policy and the products, stops the emulator.
fn demo(root: &Path) -> Result<(), String> {
    let module = layout::build(root)?;
    let emulator = emulator::Emulator::start(&layout::emulator_binary(root))?;
    println!("emulator listening on {}", emulator.service_uri);
    // The demo signs in as the seeded global administrator of the default tenant.
    let token = emulator.token(DEMO_TENANT, DEMO_USER)?;
    match powershell::find(root) {
        Ok(pwsh) => run(pwsh
            .script(root, "tests/powershell/demo.ps1")
            .arg("-ModulePath")
            .arg(module.manifest())
            .env("MSCOMMERCE_SERVICE_URI", &emulator.service_uri)
            .env("MSCOMMERCE_TOKEN", &token)),
        Err(why) => {
            println!("no PowerShell for the demo: {why}");
            println!("showing the same objects through the module's managed client instead:\n");
            run(Step::new("dotnet", root)
                .args([
                    "run",
                    "--project",
                    "tools/MSCommerce.DemoHost",
                    "-c",
                    "Release",
                    "--",
                ])
                .arg(&emulator.service_uri)
                .env("MSCOMMERCE_NATIVE_DIR", module.native_dir())
                .env("MSCOMMERCE_TOKEN", &token))
        }
    }
}
