//! .NET hosted from Rust through netcorehost, calling the module's managed side: Rust test ->
//! hostfxr -> MSCommerce.dll -> its native loader -> the core -> HTTP -> the emulator.
//!
//! Needs the laid-out module and the emulator: `cargo xtask test` sets MSCOMMERCE_MODULE_DIR and
//! MSCOMMERCE_EMULATOR before it runs this crate's tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use netcorehost::hostfxr::Hostfxr;
use netcorehost::pdcstring::PdCString;

fn required_env(name: &str) -> PathBuf {
    std::env::var_os(name)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{name} is not set: run these tests through `cargo xtask test`"))
}

/// The emulator, started on a free port with a fresh data folder, killed on drop.
struct Emulator {
    child: Child,
    service_uri: String,
    data: tempfile::TempDir,
}

impl Emulator {
    fn start() -> Emulator {
        let data = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(required_env("MSCOMMERCE_EMULATOR"))
            .args(["serve", "--port", "0", "--data"])
            .arg(data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("ready line");
        let ready: serde_json::Value = serde_json::from_str(&line).expect("ready line is JSON");
        let service_uri = ready["serviceUri"].as_str().expect("serviceUri").to_owned();
        Emulator {
            child,
            service_uri,
            data,
        }
    }
}

impl Emulator {
    /// A token for the seeded global administrator, from the emulator's `token` command.
    fn admin_token(&self) -> String {
        let output = Command::new(required_env("MSCOMMERCE_EMULATOR"))
            .args([
                "token",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--user",
                "admin@contoso.onmicrosoft.com",
                "--data",
            ])
            .arg(self.data.path())
            .output()
            .expect("run the token command");
        assert!(
            output.status.success(),
            "token command failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .expect("a token line")
            .trim()
            .to_owned()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// libhostfxr of the newest .NET installed beside the `dotnet` on PATH (or under DOTNET_ROOT).
fn hostfxr_path() -> PathBuf {
    let root = std::env::var_os("DOTNET_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let dotnet = std::env::var_os("PATH")
                .and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|dir| {
                            dir.join(if cfg!(windows) {
                                "dotnet.exe"
                            } else {
                                "dotnet"
                            })
                        })
                        .find(|candidate| candidate.is_file())
                })
                .expect("dotnet on PATH");
            let real = std::fs::canonicalize(dotnet).expect("resolve dotnet");
            real.parent().expect("dotnet root").to_path_buf()
        });
    let fxr = root.join("host").join("fxr");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&fxr)
        .expect("host/fxr")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    versions.sort_by_key(|path| version_key(path));
    let newest = versions.pop().expect("a hostfxr version");
    newest.join(libloading_name("hostfxr"))
}

fn version_key(path: &Path) -> Vec<u64> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.split(['.', '-'])
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

fn libloading_name(stem: &str) -> String {
    if cfg!(windows) {
        format!("{stem}.dll")
    } else if cfg!(target_os = "macos") {
        format!("lib{stem}.dylib")
    } else {
        format!("lib{stem}.so")
    }
}

#[test]
fn managed_side_fetches_policies_through_the_native_core() {
    let module = required_env("MSCOMMERCE_MODULE_DIR");
    let emulator = Emulator::start();
    let scratch = tempfile::tempdir().expect("temp dir");
    // A library has no runtimeconfig of its own; this one asks for any .NET 8 or later.
    let runtime_config = scratch.path().join("probe.runtimeconfig.json");
    std::fs::write(
        &runtime_config,
        r#"{"runtimeOptions":{"tfm":"net8.0","rollForward":"LatestMajor","framework":{"name":"Microsoft.NETCore.App","version":"8.0.0"}}}"#,
    )
    .expect("write runtimeconfig");

    let hostfxr = Hostfxr::load_from_path(hostfxr_path()).expect("load hostfxr");
    let context = hostfxr
        .initialize_for_runtime_config(PdCString::from_os_str(&runtime_config).expect("path"))
        .expect("initialise the runtime");
    let assembly = PdCString::from_os_str(module.join("MSCommerce.dll")).expect("path");
    let loader = context
        .get_delegate_loader_for_assembly(assembly)
        .expect("assembly loader");
    let probe = loader
        .get_function_with_default_signature(
            &"MSCommerce.Interop.HostProbe, MSCommerce"
                .parse::<PdCString>()
                .expect("type name"),
            &"Probe".parse::<PdCString>().expect("method name"),
        )
        .expect("HostProbe.Probe");

    let args =
        serde_json::json!({ "serviceUri": emulator.service_uri, "token": emulator.admin_token() })
            .to_string();
    let policies = unsafe { probe(args.as_ptr().cast(), args.len() as i32) };
    assert_eq!(
        policies, 1,
        "the emulator serves exactly one policy (negative = the probe failed)"
    );
}
