//! The PowerShell the PowerShell-level tests and the demo run in, and the PowerShell modules the
//! test run needs (Pester), all restored from NuGet: the PowerShell Gallery is not reachable from
//! every build machine, and nothing of the build may need it.

use std::path::{Path, PathBuf};

use crate::process::{output, run, Step};

/// The tools project whose `PackageDownload` items are the PowerShell modules of the test run.
const MODULES_PROJECT: &str = "tools/PowerShellModules/PowerShellModules.csproj";

/// How to start PowerShell.
pub enum PowerShell {
    /// An executable (`pwsh`, `powershell.exe`, or MSCOMMERCE_PWSH).
    Executable(PathBuf),
    /// The pinned local .NET tool (`.config/dotnet-tools.json`): `dotnet pwsh`.
    DotnetTool,
}

impl PowerShell {
    fn start(&self, root: &Path) -> Step {
        match self {
            PowerShell::Executable(path) => Step::new(path, root),
            PowerShell::DotnetTool => Step::new("dotnet", root).arg("pwsh"),
        }
    }

    /// A step running `script` (relative to `root`) with no profile.
    pub fn script(&self, root: &Path, script: &str) -> Step {
        self.start(root)
            .args(["-NoLogo", "-NoProfile", "-NonInteractive", "-File"])
            .arg(root.join(script))
    }

    /// A step running `command`, a PowerShell command line. Keep it to single quotes: Windows
    /// PowerShell re-parses double quotes on its command line.
    pub fn command(&self, root: &Path, command: &str) -> Step {
        self.start(root).args([
            "-NoLogo",
            "-NoProfile",
            "-NonInteractive",
            "-Command",
            command,
        ])
    }

    /// The major version, if this PowerShell starts at all.
    fn major_version(&self, root: &Path) -> Option<u32> {
        output(self.command(root, "$PSVersionTable.PSVersion.Major"))
            .and_then(|major| major.trim().parse().ok())
    }
}

/// The PowerShell to use: `MSCOMMERCE_PWSH` (build.ps1 sets it to the PowerShell running it);
/// else the pinned .NET tool, restored here with `dotnet tool restore` so a fresh clone needs no
/// set-up step; else `pwsh` on PATH (a machine that cannot restore the tool). The error says
/// what was tried.
pub fn find(root: &Path) -> Result<PowerShell, String> {
    if let Some(path) = std::env::var_os("MSCOMMERCE_PWSH").filter(|p| !p.is_empty()) {
        let pwsh = PowerShell::Executable(PathBuf::from(&path));
        return match pwsh.major_version(root) {
            Some(major) if major >= 5 => Ok(pwsh),
            _ => Err(format!(
                "MSCOMMERCE_PWSH names {}, which does not start as PowerShell 5.1 or later",
                Path::new(&path).display()
            )),
        };
    }
    let restored = run(Step::new("dotnet", root).args(["tool", "restore"]));
    let tool = PowerShell::DotnetTool;
    if tool.major_version(root).is_some_and(|major| major >= 7) {
        return Ok(tool);
    }
    let on_path = PowerShell::Executable(PathBuf::from("pwsh"));
    if on_path.major_version(root).is_some_and(|major| major >= 7) {
        return Ok(on_path);
    }
    Err(format!(
        "no PowerShell: `dotnet tool restore` of the pinned PowerShell tool {} and there is no \
         `pwsh` on PATH (or set MSCOMMERCE_PWSH)",
        match restored {
            Ok(()) => "succeeded but `dotnet pwsh` does not start".to_owned(),
            Err(why) => format!("failed ({why})"),
        }
    ))
}

/// One module restored from NuGet and laid out for PSModulePath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The module's name, as `Import-Module` takes it.
    pub name: String,
    /// The exact version restored.
    pub version: String,
}

/// Restores the modules of [`MODULES_PROJECT`] and lays each package's `tools/` folder (the
/// module itself) out as `<target>/ps-modules/<Name>/<Version>/`, the shape PSModulePath wants.
/// Returns that folder, which goes first on PSModulePath for the test run only.
pub fn restore_modules(root: &Path, target: &Path) -> Result<(PathBuf, Vec<Module>), String> {
    let project = root.join(MODULES_PROJECT);
    let modules = declared_modules(
        &std::fs::read_to_string(&project)
            .map_err(|e| format!("read {}: {e}", project.display()))?,
    );
    if modules.is_empty() {
        return Err(format!("{} declares no PackageDownload", project.display()));
    }
    run(Step::new("dotnet", root).args(["restore", MODULES_PROJECT, "--nologo", "-v", "quiet"]))?;
    let packages = global_packages(root)?;
    let dir = target.join("ps-modules");
    for module in &modules {
        let source = packages
            .join(module.name.to_ascii_lowercase())
            .join(&module.version)
            .join("tools");
        let manifest = format!("{}.psd1", module.name);
        if !source.join(&manifest).is_file() {
            return Err(format!(
                "the {} {} package has no tools/{manifest} in {}",
                module.name,
                module.version,
                source.display()
            ));
        }
        copy_tree(&source, &dir.join(&module.name).join(&module.version))?;
    }
    Ok((dir, modules))
}

/// The `PackageDownload Include="Name" Version="[x.y.z]"` items of a project file.
fn declared_modules(project: &str) -> Vec<Module> {
    let attribute = |element: &str, name: &str| -> Option<String> {
        let start = element.find(&format!("{name}=\""))? + name.len() + 2;
        let end = element[start..].find('"')? + start;
        Some(element[start..end].to_owned())
    };
    project
        .split("<PackageDownload")
        .skip(1)
        .filter_map(|element| {
            let element = &element[..element.find('>').unwrap_or(element.len())];
            let name = attribute(element, "Include")?;
            let version = attribute(element, "Version")?
                .trim_matches(|c| c == '[' || c == ']')
                .to_owned();
            Some(Module { name, version })
        })
        .collect()
}

/// NuGet's global packages folder, where `dotnet restore` puts downloaded packages.
fn global_packages(root: &Path) -> Result<PathBuf, String> {
    let listed =
        output(Step::new("dotnet", root).args(["nuget", "locals", "global-packages", "--list"]))
            .ok_or("`dotnet nuget locals global-packages --list` failed")?;
    listed
        .lines()
        .find_map(|line| line.trim().strip_prefix("global-packages:"))
        .map(|path| PathBuf::from(path.trim()))
        .ok_or_else(|| format!("no global-packages folder in: {listed}"))
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("create {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("list {}: {e}", from.display()))?;
    for entry in entries.flatten() {
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if source.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            let same = std::fs::metadata(&target)
                .ok()
                .zip(entry.metadata().ok())
                .is_some_and(|(old, new)| old.len() == new.len());
            if !same {
                std::fs::copy(&source, &target)
                    .map_err(|e| format!("copy {}: {e}", source.display()))?;
            }
        }
    }
    Ok(())
}

/// Runs every `*.Tests.ps1` under `MSCOMMERCE_PESTER_PATH` with the restored Pester in one
/// `Invoke-Pester`, writes NUnit XML to `MSCOMMERCE_PESTER_RESULT`, and fails unless every test
/// ran and passed.
const RUN_PESTER: &str = "$ErrorActionPreference = 'Stop'; \
    Import-Module -Name Pester -RequiredVersion $env:MSCOMMERCE_PESTER_VERSION; \
    $configuration = New-PesterConfiguration; \
    $configuration.Run.Path = $env:MSCOMMERCE_PESTER_PATH; \
    $configuration.Run.PassThru = $true; \
    $configuration.Output.Verbosity = 'Detailed'; \
    $configuration.TestResult.Enabled = $true; \
    $configuration.TestResult.OutputFormat = 'NUnitXml'; \
    $configuration.TestResult.OutputPath = $env:MSCOMMERCE_PESTER_RESULT; \
    $result = Invoke-Pester -Configuration $configuration; \
    Write-Host ('pester: {0} passed, {1} failed, {2} skipped' -f $result.PassedCount, $result.FailedCount, $result.SkippedCount); \
    if ($result.Result -ne 'Passed' -or $result.PassedCount -eq 0) { exit 1 }";

/// A step running the Pester files under `path` (relative to `root`) with the modules of
/// [`restore_modules`], writing NUnit XML to `result`.
pub fn pester(
    pwsh: &PowerShell,
    root: &Path,
    modules: &(PathBuf, Vec<Module>),
    path: &str,
    result: &Path,
) -> Step {
    let (dir, modules) = modules;
    let version = modules
        .iter()
        .find(|module| module.name == "Pester")
        .map(|module| module.version.clone())
        .unwrap_or_default();
    let separator = if cfg!(windows) { ";" } else { ":" };
    let mut module_path = dir.as_os_str().to_owned();
    if let Some(existing) = std::env::var_os("PSModulePath").filter(|p| !p.is_empty()) {
        module_path.push(separator);
        module_path.push(existing);
    }
    pwsh.command(root, RUN_PESTER)
        .env("PSModulePath", module_path)
        .env("MSCOMMERCE_PESTER_VERSION", version)
        .env("MSCOMMERCE_PESTER_PATH", root.join(path))
        .env("MSCOMMERCE_PESTER_RESULT", result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_downloads_are_read_with_their_exact_versions() {
        let project = r#"<ItemGroup>
            <PackageDownload Include="Pester" Version="[5.7.1]" />
            <PackageDownload Version="[1.2.0]" Include="Other.Module"/>
            <PackageReference Include="NotAModule" Version="1.0.0" />
        </ItemGroup>"#;
        assert_eq!(
            declared_modules(project),
            vec![
                Module {
                    name: "Pester".into(),
                    version: "5.7.1".into()
                },
                Module {
                    name: "Other.Module".into(),
                    version: "1.2.0".into()
                },
            ]
        );
    }

    #[test]
    fn the_project_declares_pester_5() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let project = std::fs::read_to_string(root.join(MODULES_PROJECT)).unwrap();
        let pester = declared_modules(&project)
            .into_iter()
            .find(|module| module.name == "Pester")
            .expect("Pester is declared");
        assert!(pester.version.starts_with("5."), "{}", pester.version);
    }
}
