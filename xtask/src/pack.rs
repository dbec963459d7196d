//! `cargo xtask pack`: the gallery package, `out/MSCommerce.<version>.nupkg`. PowerShell makes it:
//! `xtask/scripts/pack.ps1` publishes the laid-out module folder with PSResourceGet's
//! `Publish-PSResource` to a local file repository made for the run (no gallery is reached). This
//! module then checks what came out.
//!
//! The check reads only the package, so it holds for a package built anywhere: the manifest
//! inside it passes `Test-ModuleManifest` and this project's rules, the nuspec agrees with it,
//! every file the manifest names is there, nothing else is (no .pdb, build output or tests), and
//! each native library is the right one for its folder's RID and stripped.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::binary;
use crate::layout::RUNTIMES;
use crate::manifest::{self, Table};
use crate::powershell::PowerShell;
use crate::process::run;

/// The module's name: the manifest's file name and the package id.
pub const ID: &str = "MSCommerce";

/// The original module's last version; this one must be above it so that Update-Module moves on.
const ORIGINAL_VERSION: [u64; 3] = [3, 0, 1];

/// The script that makes the package, relative to the workspace root.
const PACK_SCRIPT: &str = "xtask/scripts/pack.ps1";

/// What `check` found in a good package.
#[derive(Debug)]
pub struct Report {
    /// The package file.
    pub path: PathBuf,
    /// The package file's size.
    pub bytes: u64,
    /// The module files' size, uncompressed.
    pub unpacked: u64,
    /// The module files (without the package's own metadata).
    pub files: Vec<(String, u64)>,
    /// The RIDs with a native library.
    pub runtimes: Vec<String>,
    /// The cmdlets the manifest exports.
    pub cmdlets: usize,
}

/// What the nuspec must say, from the manifest: what `Publish-PSResource` derives from it.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    id: String,
    version: String,
    authors: String,
    description: String,
    project_url: String,
    license_url: String,
    release_notes: String,
    /// `PSModule` and the manifest's tags.
    tags: Vec<String>,
}

impl Expected {
    fn from_manifest(manifest: &Table) -> Result<Expected, String> {
        let data = psdata(manifest);
        let text = |table: &Table, key: &str| table.str(key).unwrap_or_default().to_owned();
        let mut tags = vec!["PSModule".to_owned()];
        for tag in data.strings("Tags") {
            if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                tags.push(tag);
            }
        }
        Ok(Expected {
            id: ID.to_owned(),
            version: package_version(manifest)?,
            authors: text(manifest, "Author"),
            description: text(manifest, "Description"),
            project_url: text(&data, "ProjectUri"),
            license_url: text(&data, "LicenseUri"),
            release_notes: text(&data, "ReleaseNotes"),
            tags,
        })
    }
}

/// `PrivateData.PSData`, or an empty table.
fn psdata(manifest: &Table) -> Table {
    manifest
        .table("PrivateData")
        .and_then(|p| p.table("PSData"))
        .unwrap_or_default()
}

/// `ModuleVersion`, NuGet-normalised (a fourth part of 0 dropped), with `-<Prerelease>` if any.
fn package_version(manifest: &Table) -> Result<String, String> {
    let version = manifest
        .str("ModuleVersion")
        .ok_or("the manifest has no ModuleVersion")?;
    let mut parts = version_parts(version)
        .ok_or_else(|| format!("ModuleVersion '{version}' is not a version"))?;
    if parts.len() == 4 && parts[3] == 0 {
        parts.pop();
    }
    while parts.len() < 3 {
        parts.push(0);
    }
    let mut text = parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    let prerelease = psdata(manifest)
        .str("Prerelease")
        .unwrap_or_default()
        .to_owned();
    if !prerelease.is_empty() {
        text = format!("{text}-{prerelease}");
    }
    Ok(text)
}

fn version_parts(version: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = version.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| (2..=4).contains(&p.len()))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The text of the first `<name>` element in `xml`.
fn element_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(unescape(&xml[start..end]))
}

const NUSPEC_RELATIONSHIP: &str = "http://schemas.microsoft.com/packaging/2010/07/manifest";
const CORE_PROPERTIES_FOLDER: &str = "package/services/metadata/core-properties/";

fn extension(name: &str) -> Option<&str> {
    let file = name.rsplit('/').next()?;
    file.rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty())
}

/// A folder of its own under the system's temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Result<Scratch, String> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mscommerce-xtask-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }

    /// A new folder inside this one.
    fn folder(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.0.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        Ok(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Publishes the module folder `module_dir` with `Publish-PSResource` to a file repository of
/// this run's own and moves the package it wrote to `out_dir`; returns its path there.
pub fn pack(
    pwsh: &PowerShell,
    root: &Path,
    module_dir: &Path,
    out_dir: &Path,
) -> Result<PathBuf, String> {
    let scratch = Scratch::new("pack")?;
    let repository = scratch.folder("repository")?;
    let mut step = pwsh
        .script(root, PACK_SCRIPT)
        .arg("-ModuleDir")
        .arg(module_dir)
        .arg("-Repository")
        .arg(&repository)
        .env("NO_COLOR", "1")
        .env("POWERSHELL_TELEMETRY_OPTOUT", "1")
        .env("POWERSHELL_UPDATECHECK", "Off");
    if cfg!(unix) {
        // PSResourceGet keeps its repository list under XDG_DATA_HOME here; the folder must
        // exist, or .NET names no folder and the list lands in the working directory.
        step = step.env("XDG_DATA_HOME", scratch.folder("data")?);
    }
    run(step)?;
    let written: Vec<PathBuf> = std::fs::read_dir(&repository)
        .map_err(|e| format!("list {}: {e}", repository.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "nupkg"))
        .collect();
    let [nupkg] = written.as_slice() else {
        return Err(format!(
            "Publish-PSResource left {} packages in {}, not one",
            written.len(),
            repository.display()
        ));
    };
    std::fs::create_dir_all(out_dir).map_err(|e| format!("create {}: {e}", out_dir.display()))?;
    let target = out_dir.join(nupkg.file_name().unwrap_or_default());
    // A copy, not a rename: the temporary folder may be on another file system.
    let partial = target.with_extension("nupkg.partial");
    std::fs::copy(nupkg, &partial).map_err(|e| format!("write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, &target).map_err(|e| format!("write {}: {e}", target.display()))?;
    Ok(target)
}

/// Problems with the manifest itself, beyond what `Test-ModuleManifest` refuses: what the gallery
/// and this project ask of it (explicit exports, the original's GUID and a higher version, both
/// editions, PowerShell 5.1, the .NET Framework 4.7.2 that netstandard2.0 needs there, license,
/// project, notes, tags).
pub fn manifest_problems(manifest: &Table) -> Vec<String> {
    let mut problems = Vec::new();
    let guid = manifest.str("GUID").unwrap_or_default();
    if guid != "0141756d-17fc-4ea8-9169-d034b210847e" {
        problems.push(format!(
            "GUID is '{guid}', not the original MSCommerce module's"
        ));
    }
    match manifest.str("ModuleVersion").and_then(version_parts) {
        Some(parts)
            if parts.iter().copied().cmp(ORIGINAL_VERSION) == std::cmp::Ordering::Greater => {}
        _ => problems.push(format!(
            "ModuleVersion must be a version above the original's {}",
            ORIGINAL_VERSION.map(|p| p.to_string()).join(".")
        )),
    }
    let editions = manifest.strings("CompatiblePSEditions");
    for edition in ["Desktop", "Core"] {
        if !editions.iter().any(|e| e == edition) {
            problems.push(format!("CompatiblePSEditions lacks '{edition}'"));
        }
    }
    if manifest.str("PowerShellVersion") != Some("5.1") {
        problems.push("PowerShellVersion must be '5.1'".into());
    }
    if manifest.str("DotNetFrameworkVersion") != Some("4.7.2") {
        problems.push(
            "DotNetFrameworkVersion must be '4.7.2' (what netstandard2.0 needs on Windows PowerShell 5.1)"
                .into(),
        );
    }
    for key in [
        "CmdletsToExport",
        "FunctionsToExport",
        "VariablesToExport",
        "AliasesToExport",
    ] {
        if manifest.get(key).is_none() {
            problems.push(format!(
                "{key} is missing: PowerShell then exports everything"
            ));
        }
        for name in manifest.strings(key) {
            if name.contains('*') || name.contains('?') {
                problems.push(format!(
                    "{key} has the wildcard '{name}': list each name explicitly"
                ));
            }
        }
    }
    if manifest.strings("CmdletsToExport").is_empty() {
        problems.push("CmdletsToExport lists no cmdlet".into());
    }
    for key in ["Author", "Description", "Copyright"] {
        if manifest.str(key).unwrap_or_default().is_empty() {
            problems.push(format!("{key} is empty"));
        }
    }
    let data = psdata(manifest);
    for key in ["LicenseUri", "ProjectUri", "ReleaseNotes"] {
        if data.str(key).unwrap_or_default().is_empty() {
            problems.push(format!("PrivateData.PSData.{key} is empty"));
        }
    }
    for key in ["LicenseUri", "ProjectUri"] {
        let uri = data.str(key).unwrap_or_default();
        if !uri.is_empty() && !uri.starts_with("https://") {
            problems.push(format!("PrivateData.PSData.{key} is not an https URI"));
        }
    }
    let tags = data.strings("Tags");
    if tags.is_empty() {
        problems.push("PrivateData.PSData.Tags is empty".into());
    }
    for tag in tags {
        if tag.is_empty() || tag.chars().any(char::is_whitespace) {
            problems.push(format!("the tag '{tag}' is empty or has a space"));
        }
    }
    problems
}

/// A zip entry's name and bytes.
type Entry = (String, Vec<u8>);

fn read_zip(path: &Path) -> Result<Vec<Entry>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| format!("{} is not a zip: {e}", path.display()))?;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("{}: entry {index}: {e}", path.display()))?;
        if entry.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {}: {e}", path.display(), entry.name()))?;
        entries.push((entry.name().to_owned(), bytes));
    }
    Ok(entries)
}

/// A relative name with `/`, no empty or `..` segment.
fn is_plain(name: &str) -> bool {
    !(name.contains('\\')
        || name.starts_with('/')
        || name.split('/').any(|s| s == ".." || s.is_empty()))
}

/// The package's own parts, which are not module files.
fn is_metadata(name: &str) -> bool {
    name == "[Content_Types].xml"
        || name == "_rels/.rels"
        || name == format!("{ID}.nuspec")
        || (name.starts_with(CORE_PROPERTIES_FOLDER) && name.ends_with(".psmdcp"))
}

/// Why a file does not belong in the package, for files that often slip in.
fn unwanted(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split('/').collect();
    if lower.ends_with(".pdb") || lower.ends_with(".dsym") || lower.contains(".dsym/") {
        Some("debug symbols")
    } else if segments.iter().any(|s| *s == "obj" || *s == "bin") {
        Some("build output")
    } else if lower.ends_with(".tests.ps1")
        || segments
            .iter()
            .any(|s| *s == "tests" || *s == "testresults")
    {
        Some("a test file")
    } else if lower.ends_with(".deps.json") || lower.ends_with(".runtimeconfig.json") {
        Some("a .NET host file PowerShell does not read")
    } else if lower.ends_with(".lib") || lower.ends_with(".exp") || lower.ends_with(".a") {
        Some("a link-time file")
    } else {
        None
    }
}

/// Checks a package; the error lists every problem found.
pub fn check(
    pwsh: &PowerShell,
    root: &Path,
    nupkg: &Path,
    all_runtimes: bool,
) -> Result<Report, String> {
    let entries = read_zip(nupkg)?;
    let mut problems = Vec::new();
    let find = |name: &str| entries.iter().find(|(n, _)| n == name).map(|(_, b)| b);

    let mut seen = BTreeSet::new();
    for (name, _) in &entries {
        if !seen.insert(name.to_ascii_lowercase()) {
            problems.push(format!("{name} is in the package twice"));
        }
        if !is_plain(name) {
            problems.push(format!("'{name}' is not a plain relative path"));
        }
    }

    // The module manifest, read by PowerShell from the package's own files (so that
    // Test-ModuleManifest also sees whether the files it names are there), and the nuspec, which
    // must agree with it.
    if find(&format!("{ID}.psd1")).is_none() {
        return Err(format!("{}: no {ID}.psd1 at the root", nupkg.display()));
    }
    let scratch = Scratch::new("check")?;
    let unpacked_dir = scratch.folder(ID)?;
    for (name, bytes) in &entries {
        if is_metadata(name) || !is_plain(name) {
            continue;
        }
        let path = unpacked_dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    let read = manifest::read(pwsh, root, &unpacked_dir.join(format!("{ID}.psd1")))
        .map_err(|e| format!("{}: {ID}.psd1: {e}", nupkg.display()))?;
    let manifest = read.data;
    problems.extend(read.problems);
    problems.extend(manifest_problems(&manifest));
    let expected = Expected::from_manifest(&manifest)?;
    let nuspec_name = format!("{ID}.nuspec");
    let nuspec = find(&nuspec_name)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    if nuspec.is_empty() {
        problems.push(format!("no {nuspec_name} at the root"));
    }
    let nuspec_count = entries
        .iter()
        .filter(|(n, _)| n.ends_with(".nuspec"))
        .count();
    if nuspec_count > 1 {
        problems.push(format!("{nuspec_count} .nuspec files; NuGet wants one"));
    }
    for (element, wanted) in [
        ("id", &expected.id),
        ("version", &expected.version),
        ("authors", &expected.authors),
        ("description", &expected.description),
        ("projectUrl", &expected.project_url),
        ("licenseUrl", &expected.license_url),
        ("releaseNotes", &expected.release_notes),
    ] {
        let found = element_text(&nuspec, element).unwrap_or_default();
        if &found != wanted {
            problems.push(format!(
                "nuspec <{element}> is '{found}' but the manifest says '{wanted}'"
            ));
        }
    }
    let tags: Vec<String> = element_text(&nuspec, "tags")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    for tag in &expected.tags {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            problems.push(format!("nuspec <tags> lacks {tag}"));
        }
    }
    let expected_file = format!("{ID}.{}.nupkg", expected.version);
    if nupkg.file_name().and_then(|n| n.to_str()) != Some(expected_file.as_str()) {
        problems.push(format!("the package file should be named {expected_file}"));
    }

    // OPC parts: PowerShellGet on Windows PowerShell reads packages through System.IO.Packaging,
    // which wants the relationship to the nuspec and a content type for every part.
    let rels = find("_rels/.rels")
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    if !rels.contains(NUSPEC_RELATIONSHIP) || !rels.contains(&format!("Target=\"/{nuspec_name}\""))
    {
        problems.push("_rels/.rels does not point at the nuspec".into());
    }
    let types = find("[Content_Types].xml")
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    if types.is_empty() {
        problems.push("no [Content_Types].xml".into());
    }
    for (name, _) in &entries {
        if name == "[Content_Types].xml" {
            continue;
        }
        let declared = extension(name).is_some_and(|e| {
            types
                .to_ascii_lowercase()
                .contains(&format!("extension=\"{}\"", e.to_ascii_lowercase()))
        });
        if !declared {
            problems.push(format!("[Content_Types].xml gives {name} no content type"));
        }
    }

    // Every file the manifest names, and nothing the module does not need.
    let mut needed: BTreeSet<String> = BTreeSet::from([format!("{ID}.psd1")]);
    let mut nested_dlls = Vec::new();
    for key in [
        "RootModule",
        "NestedModules",
        "RequiredAssemblies",
        "TypesToProcess",
        "FormatsToProcess",
        "ScriptsToProcess",
        "FileList",
    ] {
        for file in manifest.strings(key) {
            let file = file.replace('\\', "/");
            let is_file = key != "NestedModules"
                || [".dll", ".psm1", ".ps1", ".psd1", ".cdxml"]
                    .iter()
                    .any(|e| file.to_ascii_lowercase().ends_with(e));
            if !is_file {
                continue; // a module by name, from elsewhere
            }
            if (key == "NestedModules" || key == "RootModule")
                && file.to_ascii_lowercase().ends_with(".dll")
            {
                nested_dlls.push(file.clone());
            }
            if find(&file).is_none() {
                problems.push(format!(
                    "the manifest's {key} names {file}, which is missing"
                ));
            }
            needed.insert(file);
        }
    }
    for dll in &nested_dlls {
        let help = format!("en-US/{dll}-Help.xml");
        if find(&help).is_none() {
            problems.push(format!("{help} is missing: Get-Help would show no text"));
        }
        needed.insert(help);
    }
    let core_properties = entries
        .iter()
        .filter(|(n, _)| n.starts_with(CORE_PROPERTIES_FOLDER) && n.ends_with(".psmdcp"))
        .count();
    if core_properties != 1 {
        problems.push(format!(
            "{core_properties} core properties parts; NuGet writes one"
        ));
    }

    let mut runtimes = Vec::new();
    let mut files = Vec::new();
    let mut unpacked = 0u64;
    for (name, bytes) in &entries {
        if is_metadata(name) {
            continue;
        }
        files.push((name.clone(), bytes.len() as u64));
        unpacked += bytes.len() as u64;
        if let Some(why) = unwanted(name) {
            problems.push(format!("{name} is {why}, which the module does not need"));
            continue;
        }
        if needed.contains(name) {
            continue;
        }
        let runtime = RUNTIMES
            .iter()
            .find(|(rid, library)| *name == format!("runtimes/{rid}/native/{library}"));
        let Some((rid, _)) = runtime else {
            problems.push(format!(
                "{name} is neither named by the manifest nor a native library: the module does not need it"
            ));
            continue;
        };
        match binary::inspect(bytes) {
            Err(why) => problems.push(format!("{name}: {why}")),
            Ok(native) => {
                let (os, arch) = rid.split_once('-').unwrap_or_default();
                if native.os != os || native.arch != arch {
                    problems.push(format!(
                        "{name} is a {}-{} library in the {rid} folder",
                        native.os, native.arch
                    ));
                }
                if !native.unstripped.is_empty() {
                    problems.push(format!(
                        "{name} is not stripped: it has {}",
                        native.unstripped.join(", ")
                    ));
                }
            }
        }
        runtimes.push(rid.to_string());
    }
    if runtimes.is_empty() {
        problems.push("no native library under runtimes/<rid>/native/".into());
    }
    if all_runtimes {
        for (rid, library) in RUNTIMES {
            if !runtimes.iter().any(|r| r == rid) {
                problems.push(format!("runtimes/{rid}/native/{library} is missing"));
            }
        }
    }

    files.sort();
    if !problems.is_empty() {
        return Err(format!(
            "{} has {} problem(s):\n  {}",
            nupkg.display(),
            problems.len(),
            problems.join("\n  ")
        ));
    }
    Ok(Report {
        path: nupkg.to_path_buf(),
        bytes: std::fs::metadata(nupkg)
            .map(|m| m.len())
            .unwrap_or_default(),
        unpacked,
        files,
        runtimes,
        cmdlets: manifest.strings("CmdletsToExport").len(),
    })
}

impl Report {
    /// The lines `cargo xtask pack` prints (and CI puts in the job summary).
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("package: {}", self.path.display()),
            format!(
                "  {} ({}) compressed, {} ({}) unpacked, {} module files",
                self.bytes,
                megabytes(self.bytes),
                self.unpacked,
                megabytes(self.unpacked),
                self.files.len()
            ),
            format!("  runtimes: {}", self.runtimes.join(", ")),
            format!(
                "  checks passed: Test-ModuleManifest and the manifest rules, nuspec agrees with the manifest ({} cmdlets), every referenced file present, nothing else, native libraries stripped",
                self.cmdlets
            ),
        ];
        for (name, size) in &self.files {
            lines.push(format!("  {size:>10}  {name}"));
        }
        lines
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::OnceLock;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
    }

    /// PowerShell, which makes and reads every package: the tests fail without it.
    fn pwsh() -> &'static PowerShell {
        static PWSH: OnceLock<PowerShell> = OnceLock::new();
        PWSH.get_or_init(|| {
            crate::powershell::find(root()).expect("PowerShell is required to pack")
        })
    }

    const MANIFEST: &str = "@{
        RootModule = 'MSCommerce.dll'
        ModuleVersion = '4.1.0'
        GUID = '0141756d-17fc-4ea8-9169-d034b210847e'
        Author = 'A & B'
        Copyright = '(c) A'
        Description = 'Allow <or> block.'
        PowerShellVersion = '5.1'
        CompatiblePSEditions = @('Desktop', 'Core')
        DotNetFrameworkVersion = '4.7.2'
        FormatsToProcess = @('MSCommerce.Format.ps1xml')
        CmdletsToExport = @('Get-MSCommercePolicy', 'Update-MSCommerceProductPolicy')
        FunctionsToExport = @()
        VariablesToExport = @()
        AliasesToExport = @()
        PrivateData = @{ PSData = @{
            Tags = @('MSCommerce', 'Windows')
            LicenseUri = 'https://example.com/LICENSE'
            ProjectUri = 'https://example.com/'
            ReleaseNotes = 'Notes.'
        } }
    }";

    /// A module folder like the real one, `<dir>/MSCommerce`, with an ELF library that has the
    /// given sections.
    fn module(dir: &Path, sections: &[&str]) -> PathBuf {
        let dir = dir.join(ID);
        let files: [(&str, Vec<u8>); 5] = [
            ("MSCommerce.psd1", MANIFEST.as_bytes().to_vec()),
            ("MSCommerce.dll", b"MZ".to_vec()),
            ("MSCommerce.Format.ps1xml", b"<Configuration/>".to_vec()),
            ("en-US/MSCommerce.dll-Help.xml", b"<helpItems/>".to_vec()),
            (
                "runtimes/linux-x64/native/libmscommerce_core.so",
                crate::binary::tests::elf_with_sections(sections),
            ),
        ];
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        dir
    }

    fn entry<'a>(entries: &'a [Entry], name: &str) -> &'a [u8] {
        &entries.iter().find(|(n, _)| n == name).unwrap().1
    }

    /// Writes `entries` over the package at `path`: a package changed after PowerShell made it.
    fn rewrite(path: &Path, entries: &[Entry]) {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, bytes) in entries {
            zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }

    #[test]
    fn a_packed_module_passes_the_check_and_its_nuspec_follows_the_manifest() {
        let temp = tempfile::tempdir().unwrap();
        let dir = module(temp.path(), &[".text", ".dynsym"]);
        let nupkg = pack(pwsh(), root(), &dir, &temp.path().join("out")).unwrap();
        assert_eq!(nupkg.file_name().unwrap(), "MSCommerce.4.1.0.nupkg");
        let report = check(pwsh(), root(), &nupkg, false).unwrap();
        assert_eq!(report.runtimes, ["linux-x64"]);
        assert_eq!(report.cmdlets, 2);
        assert_eq!(report.files.len(), 5);

        let entries = read_zip(&nupkg).unwrap();
        let nuspec = String::from_utf8_lossy(entry(&entries, "MSCommerce.nuspec")).into_owned();
        assert_eq!(element_text(&nuspec, "id").as_deref(), Some("MSCommerce"));
        assert_eq!(element_text(&nuspec, "authors").as_deref(), Some("A & B"));
        assert!(nuspec.contains("<description>Allow &lt;or&gt; block.</description>"));
        let tags = element_text(&nuspec, "tags").unwrap();
        for tag in ["PSModule", "MSCommerce", "Windows"] {
            assert!(tags.split_whitespace().any(|t| t == tag), "{tag} in {tags}");
        }
        // Six runtimes are asked for only of the release package.
        assert!(check(pwsh(), root(), &nupkg, true)
            .unwrap_err()
            .contains("runtimes/osx-arm64/native/libmscommerce_core.dylib is missing"));
    }

    #[test]
    fn the_check_names_stray_files_unstripped_libraries_and_missing_references() {
        let temp = tempfile::tempdir().unwrap();
        let dir = module(temp.path(), &[".text", ".symtab"]);
        std::fs::write(dir.join("MSCommerce.pdb"), b"x").unwrap();
        std::fs::write(dir.join("MSCommerce.xml"), b"<doc/>").unwrap();
        std::fs::create_dir_all(dir.join("runtimes/osx-arm64/native")).unwrap();
        std::fs::write(
            dir.join("runtimes/osx-arm64/native/libmscommerce_core.dylib"),
            crate::binary::tests::elf_with_sections(&[]),
        )
        .unwrap();
        let nupkg = pack(pwsh(), root(), &dir, temp.path()).unwrap();
        // Publish-PSResource refuses a module whose manifest names a missing file, so that
        // package is made by taking the file out afterwards.
        let entries: Vec<Entry> = read_zip(&nupkg)
            .unwrap()
            .into_iter()
            .filter(|(name, _)| name != "MSCommerce.Format.ps1xml")
            .collect();
        rewrite(&nupkg, &entries);
        let error = check(pwsh(), root(), &nupkg, false).unwrap_err();
        for expected in [
            "MSCommerce.pdb is debug symbols",
            "MSCommerce.xml is neither named by the manifest nor a native library",
            "libmscommerce_core.so is not stripped: it has .symtab",
            "runtimes/osx-arm64/native/libmscommerce_core.dylib is a linux-x64 library in the osx-arm64 folder",
            "FormatsToProcess names MSCommerce.Format.ps1xml, which is missing",
            "Test-ModuleManifest: ",
        ] {
            assert!(error.contains(expected), "{expected}\nnot in\n{error}");
        }
    }

    #[test]
    fn a_nuspec_that_disagrees_with_the_manifest_or_lacks_a_tag_fails() {
        let temp = tempfile::tempdir().unwrap();
        let dir = module(temp.path(), &[]);
        let good = pack(pwsh(), root(), &dir, temp.path()).unwrap();
        // The nuspec rewritten with an old version and without one of the manifest's tags.
        let entries: Vec<Entry> = read_zip(&good)
            .unwrap()
            .into_iter()
            .map(|(name, bytes)| {
                if name == "MSCommerce.nuspec" {
                    let text = String::from_utf8(bytes)
                        .unwrap()
                        .replace("<version>4.1.0</version>", "<version>4.0.0</version>")
                        .replace(" Windows", "");
                    (name, text.into_bytes())
                } else {
                    (name, bytes)
                }
            })
            .collect();
        rewrite(&good, &entries);
        let error = check(pwsh(), root(), &good, false).unwrap_err();
        assert!(error.contains("nuspec <version> is '4.0.0' but the manifest says '4.1.0'"));
        assert!(error.contains("nuspec <tags> lacks Windows"), "{error}");
    }

    #[test]
    fn manifest_rules_catch_wildcards_old_versions_and_unknown_keys() {
        let temp = tempfile::tempdir().unwrap();
        let bad = MANIFEST
            .replace("'4.1.0'", "'3.0.1'")
            .replace(
                "CmdletsToExport = @('Get-MSCommercePolicy', 'Update-MSCommerceProductPolicy')",
                "CmdletsToExport = '*'",
            )
            .replace("FunctionsToExport = @()", "FunctionToExport = @()");
        // In a module folder: Test-ModuleManifest stops at the first file it cannot find.
        let path = module(&temp.path().join("bad"), &[]).join("MSCommerce.psd1");
        std::fs::write(&path, bad).unwrap();
        let read = manifest::read(pwsh(), root(), &path).unwrap();
        let problems = manifest_problems(&read.data).join("\n");
        assert!(
            problems.contains("above the original's 3.0.1"),
            "{problems}"
        );
        assert!(problems.contains("CmdletsToExport has the wildcard '*'"));
        assert!(problems.contains("FunctionsToExport is missing"));
        // Unknown keys are PowerShell's to refuse, and the publish refuses them too.
        assert!(
            read.problems.join("\n").contains("FunctionToExport"),
            "{:?}",
            read.problems
        );
        let dir = module(&temp.path().join("unknown-key"), &[]);
        std::fs::write(
            dir.join("MSCommerce.psd1"),
            MANIFEST.replace(
                "AliasesToExport = @()",
                "AliasesToExport = @()\nAliasToExport = @()",
            ),
        )
        .unwrap();
        assert!(pack(pwsh(), root(), &dir, temp.path()).is_err());

        let good = temp.path().join("good.psd1");
        std::fs::write(&good, MANIFEST).unwrap();
        let read = manifest::read(pwsh(), root(), &good).unwrap();
        assert_eq!(manifest_problems(&read.data), Vec::<String>::new());
    }

    #[test]
    fn the_project_manifest_meets_the_gallery_rules() {
        let read = manifest::read(pwsh(), root(), &root().join("MSCommerce.psd1")).unwrap();
        assert_eq!(manifest_problems(&read.data), Vec::<String>::new());
        let expected = Expected::from_manifest(&read.data).unwrap();
        assert_eq!(expected.tags[0], "PSModule");
        assert!(expected.tags.len() > 1);
    }

    #[test]
    fn versions_are_normalised_as_nuget_does() {
        let version = |v: &str, pre: &str| {
            let json = serde_json::json!({
                "ModuleVersion": v,
                "PrivateData": { "PSData": { "Prerelease": pre } }
            });
            package_version(&Table::from_value(&json).unwrap())
        };
        assert_eq!(version("4.0.0.0", "").unwrap(), "4.0.0");
        assert_eq!(version("4.0", "").unwrap(), "4.0.0");
        assert_eq!(version("4.0.1", "rc1").unwrap(), "4.0.1-rc1");
        assert!(version("four", "").is_err());
    }
}
