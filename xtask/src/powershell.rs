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
