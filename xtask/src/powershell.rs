//! Finding a PowerShell to run the PowerShell-level tests and the demo in.

use std::path::{Path, PathBuf};

use crate::process::{output, Step};

/// Printed where no PowerShell can be found.
pub const NOT_FOUND: &str = "SKIPPED: PowerShell-level tests and demo: no PowerShell found (set MSCOMMERCE_PWSH, \
put pwsh on PATH, or run `dotnet tool restore` for the pinned PowerShell tool; on this project's build \
machines the NuGet mirror does not serve the PowerShell tool: see docs/building.md)";

/// How to start PowerShell.
pub enum PowerShell {
    /// An executable (`pwsh`, `powershell.exe`, or MSCOMMERCE_PWSH).
    Executable(PathBuf),
    /// The local .NET tool: `dotnet pwsh`.
    DotnetTool,
}

impl PowerShell {
    /// A step running `script` (relative to `root`) with no profile.
    pub fn script(&self, root: &Path, script: &str) -> Step {
        let step = match self {
            PowerShell::Executable(path) => Step::new(path, root),
            PowerShell::DotnetTool => Step::new("dotnet", root).arg("pwsh"),
        };
        step.args(["-NoLogo", "-NoProfile", "-NonInteractive", "-File"])
            .arg(root.join(script))
    }

    /// A step running `command`, a PowerShell command line. Keep it to single quotes: Windows
    /// PowerShell re-parses double quotes on its command line.
    pub fn command(&self, root: &Path, command: &str) -> Step {
        let step = match self {
            PowerShell::Executable(path) => Step::new(path, root),
            PowerShell::DotnetTool => Step::new("dotnet", root).arg("pwsh"),
        };
        step.args([
            "-NoLogo",
            "-NoProfile",
            "-NonInteractive",
            "-Command",
            command,
        ])
    }
}

/// Runs a Pester 5 test file with `Invoke-Pester` and fails unless every test passed.
const RUN_PESTER: &str = "$ErrorActionPreference = 'Stop'; \
    Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]'5.0' } | \
    Sort-Object Version -Descending | Select-Object -First 1 | Import-Module; \
    $configuration = New-PesterConfiguration; \
    $configuration.Run.Path = $env:MSCOMMERCE_PESTER_FILE; \
    $configuration.Run.PassThru = $true; \
    $configuration.Output.Verbosity = 'Detailed'; \
    $result = Invoke-Pester -Configuration $configuration; \
    if ($result.Result -ne 'Passed' -or $result.TotalCount -eq 0) { exit 1 }";

/// Whether Pester 5 or later is installed for this PowerShell.
pub fn has_pester5(pwsh: &PowerShell, root: &Path) -> bool {
    output(pwsh.command(
        root,
        "@(Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]'5.0' }).Count",
    ))
    .is_some_and(|count| count.trim().parse::<u32>().is_ok_and(|n| n > 0))
}

/// A step running the Pester 5 file `file` (relative to `root`).
pub fn pester(pwsh: &PowerShell, root: &Path, file: &str) -> Step {
    pwsh.command(root, RUN_PESTER)
        .env("MSCOMMERCE_PESTER_FILE", root.join(file))
}

/// MSCOMMERCE_PWSH (build.ps1 sets it to the PowerShell running it), else `pwsh` on PATH, else
/// the restored local tool.
pub fn find(root: &Path) -> Option<PowerShell> {
    if let Some(path) = std::env::var_os("MSCOMMERCE_PWSH").filter(|p| !p.is_empty()) {
        return Some(PowerShell::Executable(PathBuf::from(path)));
    }
    let on_path = PowerShell::Executable(PathBuf::from("pwsh"));
    if works(&on_path, root) {
        return Some(on_path);
    }
    let tool = PowerShell::DotnetTool;
    works(&tool, root).then_some(tool)
}

fn works(pwsh: &PowerShell, root: &Path) -> bool {
    let step = match pwsh {
        PowerShell::Executable(path) => Step::new(path, root),
        PowerShell::DotnetTool => Step::new("dotnet", root).arg("pwsh"),
    };
    output(step.args([
        "-NoLogo",
        "-NoProfile",
        "-NonInteractive",
        "-Command",
        "$PSVersionTable.PSVersion.Major",
    ]))
    .is_some_and(|major| major.trim().parse::<u32>().is_ok_and(|v| v >= 5))
}
