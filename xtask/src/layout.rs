//! Building the pieces and laying out `out/MSCommerce/<version>/` exactly as the gallery package
//! holds it. Files are copied only when their content changed, so a second build is quick.

use std::path::{Path, PathBuf};

use crate::process::{run, Step};

/// The laid-out module.
pub struct Module {
    /// `out/MSCommerce/<version>`.
    pub dir: PathBuf,
    /// The runtime identifier of this machine, such as `linux-x64`.
    pub rid: &'static str,
}

impl Module {
    /// The manifest inside the module folder.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("MSCommerce.psd1")
    }

    /// Where this machine's native library sits in the module folder.
    pub fn native_dir(&self) -> PathBuf {
        self.dir.join("runtimes").join(self.rid).join("native")
    }
}

/// The runtime identifier of the machine the build runs on.
pub fn host_rid() -> Result<&'static str, String> {
    let rid = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("windows", "x86_64") => "win-x64",
        ("windows", "aarch64") => "win-arm64",
        ("linux", "x86_64") => "linux-x64",
        ("linux", "aarch64") => "linux-arm64",
        ("macos", "x86_64") => "osx-x64",
        ("macos", "aarch64") => "osx-arm64",
        (os, arch) => {
            return Err(format!(
                "no runtime identifier for {os}/{arch}: the module is not built for it"
            ))
        }
    };
    Ok(rid)
}

/// Every runtime identifier the module ships a native library for, with that library's name.
pub const RUNTIMES: [(&str, &str); 6] = [
    ("win-x64", "mscommerce_core.dll"),
    ("win-arm64", "mscommerce_core.dll"),
    ("linux-x64", "libmscommerce_core.so"),
    ("linux-arm64", "libmscommerce_core.so"),
    ("osx-x64", "libmscommerce_core.dylib"),
    ("osx-arm64", "libmscommerce_core.dylib"),
];

/// A folder of native libraries built on other machines, `<folder>/<rid>/<library>`, laid out
/// beside this machine's own (the release workflow downloads every runner's library into one).
/// Not `MSCOMMERCE_NATIVE_DIR`: the shim reads that one at run time as the library's own folder.
pub const RUNTIMES_DIR_VARIABLE: &str = "MSCOMMERCE_RUNTIMES_DIR";

/// The native library's file name on the build machine.
fn native_file() -> String {
    format!(
        "{}mscommerce_core{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The libraries under `$MSCOMMERCE_RUNTIMES_DIR`: (rid, file). An error when the variable names
/// a folder that does not exist or holds something that is not a known `<rid>/<library>`.
fn other_runtimes() -> Result<Vec<(&'static str, PathBuf)>, String> {
    let Some(dir) = std::env::var_os(RUNTIMES_DIR_VARIABLE).filter(|d| !d.is_empty()) else {
        return Ok(Vec::new());
    };
    let dir = PathBuf::from(dir);
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| format!("{RUNTIMES_DIR_VARIABLE}={}: {e}", dir.display()))?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((rid, library)) = RUNTIMES.iter().find(|(rid, _)| *rid == name) else {
            return Err(format!(
                "{RUNTIMES_DIR_VARIABLE}: '{name}' in {} is not one of the runtime identifiers {}",
                dir.display(),
                RUNTIMES.map(|(rid, _)| rid).join(", ")
            ));
        };
        let file = entry.path().join(library);
        if !file.is_file() {
            return Err(format!(
                "{RUNTIMES_DIR_VARIABLE}: {} is missing",
                file.display()
            ));
        }
        found.push((*rid, file));
    }
    found.sort();
    Ok(found)
}

/// Cargo's output folder: `CARGO_TARGET_DIR` when set (relative to the workspace), else `target/`.
pub fn cargo_target(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The emulator binary of the release build.
pub fn emulator_binary(root: &Path) -> PathBuf {
    cargo_target(root).join("release").join(format!(
        "mscommerce-emulator{}",
        std::env::consts::EXE_SUFFIX
    ))
}

/// Builds the core, the emulator and the shim, and lays out the module.
pub fn build(root: &Path) -> Result<Module, String> {
    let version = module_version(root)?;
    let rid = host_rid()?;
    let others = other_runtimes()?;
    run(Step::new("cargo", root).args([
        "build",
        "--release",
        "-p",
        "mscommerce-core",
        "-p",
        "mscommerce-emulator",
    ]))?;
    let shim_out = root.join("target").join("shim");
    run(Step::new("dotnet", root)
        .args([
            "build",
            "dotnet-shim/MSCommerce.csproj",
            "-c",
            "Release",
            "--nologo",
            "-v",
            "quiet",
        ])
        .arg(format!("-p:Version={version}"))
        .arg("-o")
        .arg(&shim_out))?;

    // Get-Help reads MAML for binary cmdlets; it is generated from the cmdlets' doc comments.
    let help = shim_out.join("en-US").join("MSCommerce.dll-Help.xml");
    run(Step::new("dotnet", root)
        .args([
            "run",
            "--project",
            "tools/MSCommerce.HelpGen",
            "-c",
            "Release",
            "--",
        ])
        .arg(shim_out.join("MSCommerce.dll"))
        .arg(shim_out.join("MSCommerce.xml"))
        .arg(&help))?;

    let dir = module_dir(root, &version);
    let mut files: Vec<(PathBuf, String)> = vec![
        (root.join("MSCommerce.psd1"), "MSCommerce.psd1".into()),
        (shim_out.join("MSCommerce.dll"), "MSCommerce.dll".into()),
        (help, "en-US/MSCommerce.dll-Help.xml".into()),
    ];
    // This machine's library, unless the folder of other machines' libraries has one for this
    // RID too: then that one, which its own runner built and tested, goes in the package.
    if !others.iter().any(|(other, _)| *other == rid) {
        files.push((
            cargo_target(root).join("release").join(native_file()),
            format!("runtimes/{rid}/native/{}", native_file()),
        ));
    }
    for (other, library) in &others {
        let name = library.file_name().unwrap_or_default().to_string_lossy();
        println!("runtime {other}: {}", library.display());
        files.push((library.clone(), format!("runtimes/{other}/native/{name}")));
    }
    for data in ["MSCommerce.Format.ps1xml", "MSCommerce.Types.ps1xml"] {
        let source = root.join("dotnet-shim").join(data);
        if source.is_file() {
            files.push((source, data.into()));
        }
    }
    for (source, relative) in &files {
        copy_if_changed(source, &dir.join(relative))?;
    }
    remove_strays(
        &dir,
        &files.iter().map(|(_, r)| dir.join(r)).collect::<Vec<_>>(),
    )?;
    Ok(Module { dir, rid })
}

/// `out/MSCommerce/<version>`.
fn module_dir(root: &Path, version: &str) -> PathBuf {
    root.join("out").join("MSCommerce").join(version)
}

/// The module folder the last build laid out, which must exist.
pub fn laid_out(root: &Path) -> Result<Module, String> {
    let dir = module_dir(root, &module_version(root)?);
    if !dir.join("MSCommerce.psd1").is_file() {
        return Err(format!(
            "{} holds no laid-out module: run `cargo xtask build` first",
            dir.display()
        ));
    }
    Ok(Module {
        dir,
        rid: host_rid()?,
    })
}

/// The version, which the workspace's Cargo.toml and the manifest must agree on.
pub fn module_version(root: &Path) -> Result<String, String> {
    let cargo = read(&root.join("Cargo.toml"))?;
    let manifest = read(&root.join("MSCommerce.psd1"))?;
    let cargo_version = value_after(&cargo, "version").ok_or("no version in Cargo.toml")?;
    let module_version =
        value_after(&manifest, "ModuleVersion").ok_or("no ModuleVersion in MSCommerce.psd1")?;
    if cargo_version != module_version {
        return Err(format!(
            "Cargo.toml says version {cargo_version} but MSCommerce.psd1 says ModuleVersion {module_version}: make them agree"
        ));
    }
    Ok(module_version)
}

/// The quoted value of the first line that starts with `key` followed by `=`.
fn value_after(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = &rest[1..];
        inner.find(quote).map(|end| inner[..end].to_owned())
    })
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))
}

fn copy_if_changed(source: &Path, target: &Path) -> Result<(), String> {
    let bytes = std::fs::read(source).map_err(|e| format!("read {}: {e}", source.display()))?;
    if std::fs::read(target).ok().as_deref() == Some(bytes.as_slice()) {
        return Ok(());
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    }
    std::fs::write(target, bytes).map_err(|e| format!("write {}: {e}", target.display()))
}

/// Removes files in the module folder that the layout no longer has, and folders left empty
/// (a runtime that is no longer laid out).
fn remove_strays(dir: &Path, keep: &[PathBuf]) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_strays(&path, keep)?;
            if std::fs::read_dir(&path).is_ok_and(|mut rest| rest.next().is_none()) {
                std::fs::remove_dir(&path)
                    .map_err(|e| format!("remove {}: {e}", path.display()))?;
            }
        } else if !keep.contains(&path) {
            std::fs::remove_file(&path).map_err(|e| format!("remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_after_reads_quoted_values_of_either_kind() {
        assert_eq!(
            value_after("x\nversion = \"4.0.0\"\n", "version").as_deref(),
            Some("4.0.0")
        );
        assert_eq!(
            value_after("  ModuleVersion = '4.0.1'", "ModuleVersion").as_deref(),
            Some("4.0.1")
        );
        assert_eq!(value_after("versionless = 1", "version"), None);
    }

    #[test]
    fn cargo_and_manifest_versions_agree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert!(module_version(root).is_ok(), "{:?}", module_version(root));
    }
}
