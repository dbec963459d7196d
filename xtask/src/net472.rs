//! The Windows PowerShell 5.1 compile check: the shim (netstandard2.0) compiled once more against
//! the .NET Framework 4.7.2 reference assemblies, so that an API Windows PowerShell's .NET lacks
//! fails the test run on any build machine. It ships nothing: its output stays under
//! `<target>/net472-check/`, apart from the shim's own `obj/` so that it never disturbs the
//! real build.

use std::path::Path;

use crate::layout::cargo_target;
use crate::process::{run_captured, Step};

/// What the check found.
pub enum Outcome {
    Passed,
    /// The reference assemblies could not be restored here; the reason.
    Skipped(String),
}

/// Restores, then builds `dotnet-shim` for net472 only.
pub fn check(root: &Path, transcript: &mut Vec<u8>) -> Result<Outcome, String> {
    let work = cargo_target(root).join("net472-check");
    // The shim's default items would pick up the real build's generated files under obj/; the
    // check's own intermediate files are outside the project folder.
    let properties = [
        "-p:TargetFrameworks=net472".to_owned(),
        "-p:TargetFramework=".to_owned(),
        "-p:DefaultItemExcludes=obj/**".to_owned(),
        format!(
            "-p:BaseIntermediateOutputPath={}/",
            work.join("obj").display()
        ),
        format!("-p:OutputPath={}/", work.join("bin").display()),
    ];
    let restore = Step::new("dotnet", root)
        .args([
            "restore",
            "dotnet-shim/MSCommerce.csproj",
            "--nologo",
            "-v",
            "quiet",
        ])
        .args(&properties);
    if let Err(why) = run_captured(restore, transcript) {
        let reason = format!(
            "the .NET Framework 4.7.2 reference assemblies (Microsoft.NETFramework.ReferenceAssemblies 1.0.3) could not be restored: {why}"
        );
        // Hosted CI reaches nuget.org: there a failed restore is a failure, not a skip.
        return if std::env::var_os("CI").is_some() {
            Err(reason)
        } else {
            Ok(Outcome::Skipped(reason))
        };
    }
    run_captured(
        Step::new("dotnet", root)
            .args([
                "build",
                "dotnet-shim/MSCommerce.csproj",
                "-c",
                "Release",
                "--no-restore",
                "--nologo",
                "-v",
                "quiet",
            ])
            .args(&properties),
        transcript,
    )?;
    Ok(Outcome::Passed)
}
