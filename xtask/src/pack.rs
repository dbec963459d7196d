//! `cargo xtask pack`: the gallery package, `out/MSCommerce.<version>.nupkg`, made from the
//! laid-out module folder the way `Publish-Module` makes one (a NuGet package: the module's files
//! at the root of the zip, a `.nuspec` built from the manifest with the gallery's tags, and the OPC
//! parts `[Content_Types].xml`, `_rels/.rels` and the core properties), then checked.
//!
//! The check reads only the package, so it holds for a package built anywhere: the nuspec agrees
//! with the manifest inside it, every command is tagged, every file the manifest names is there,
//! nothing else is (no .pdb, build output or tests), and each native library is the right one for
//! its folder's RID and stripped.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::binary;
use crate::layout::RUNTIMES;
use crate::psd1::{self, Table};

/// The module's name: the manifest's file name and the package id.
pub const ID: &str = "MSCommerce";

/// The original module's last version; this one must be above it so that Update-Module moves on.
const ORIGINAL_VERSION: [u64; 3] = [3, 0, 1];

/// What `check` found in a good package.
#[derive(Debug)]
pub struct Report {
    pub path: PathBuf,
    /// The package file's size.
    pub bytes: u64,
    /// The module files' size, uncompressed.
    pub unpacked: u64,
    /// The module files (without the package's own metadata).
    pub files: Vec<(String, u64)>,
    /// The RIDs with a native library.
    pub runtimes: Vec<String>,
    pub cmdlets: usize,
}

/// Package metadata, from a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub id: String,
    pub version: String,
    pub authors: String,
    pub owners: String,
    pub description: String,
    pub copyright: String,
    pub release_notes: String,
    pub project_url: String,
    pub license_url: String,
    pub icon_url: String,
    pub require_license_acceptance: bool,
    pub tags: Vec<String>,
}

impl Metadata {
    /// The metadata `Publish-Module` derives from the manifest: the manifest's tags, then
    /// `PSModule`, `PSEdition_<edition>` for each compatible edition, and for the exported commands
    /// `PSIncludes_Cmdlet`/`PSIncludes_Function` and `PSCmdlet_<name>`/`PSFunction_<name>` plus
    /// `PSCommand_<name>`.
    pub fn from_manifest(id: &str, manifest: &Table) -> Result<Metadata, String> {
        let data = manifest
            .table("PrivateData")
            .and_then(|p| p.table("PSData"))
            .cloned()
            .unwrap_or_default();
        let text = |table: &Table, key: &str| table.str(key).unwrap_or_default().to_owned();
        let version = package_version(manifest)?;
        let mut tags: Vec<String> = Vec::new();
        let mut add = |tag: String| {
            if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                tags.push(tag);
            }
        };
        data.strings("Tags").into_iter().for_each(&mut add);
        add("PSModule".into());
        for edition in manifest.strings("CompatiblePSEditions") {
            add(format!("PSEdition_{edition}"));
        }
        let cmdlets = manifest.strings("CmdletsToExport");
        let functions = manifest.strings("FunctionsToExport");
        if !cmdlets.is_empty() {
            add("PSIncludes_Cmdlet".into());
        }
        if !functions.is_empty() {
            add("PSIncludes_Function".into());
        }
        for cmdlet in &cmdlets {
            add(format!("PSCmdlet_{cmdlet}"));
            add(format!("PSCommand_{cmdlet}"));
        }
        for function in &functions {
            add(format!("PSFunction_{function}"));
            add(format!("PSCommand_{function}"));
        }
        let author = text(manifest, "Author");
        Ok(Metadata {
            id: id.to_owned(),
            version,
            owners: manifest
                .str("CompanyName")
                .map(str::to_owned)
                .unwrap_or_else(|| author.clone()),
            authors: author,
            description: text(manifest, "Description"),
            copyright: text(manifest, "Copyright"),
            release_notes: text(&data, "ReleaseNotes"),
            project_url: text(&data, "ProjectUri"),
            license_url: text(&data, "LicenseUri"),
            icon_url: text(&data, "IconUri"),
            require_license_acceptance: data.bool("RequireLicenseAcceptance").unwrap_or(false),
            tags,
        })
    }

    /// The `.nuspec` document.
    pub fn nuspec(&self) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <package xmlns=\"http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd\">\n  <metadata>\n",
        );
        let mut element = |name: &str, value: &str| {
            if !value.is_empty() {
                xml.push_str(&format!("    <{name}>{}</{name}>\n", escape(value)));
            }
        };
        element("id", &self.id);
        element("version", &self.version);
        element("authors", &self.authors);
        element("owners", &self.owners);
        element(
            "requireLicenseAcceptance",
            if self.require_license_acceptance {
                "true"
            } else {
                "false"
            },
        );
        element("licenseUrl", &self.license_url);
        element("projectUrl", &self.project_url);
        element("iconUrl", &self.icon_url);
        element("description", &self.description);
        element("releaseNotes", &self.release_notes);
        element("copyright", &self.copyright);
        element("tags", &self.tags.join(" "));
        xml.push_str("  </metadata>\n</package>\n");
        xml
    }

    /// The OPC core properties part NuGet writes beside the nuspec.
    fn core_properties(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<coreProperties \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xmlns=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\">\
             <dc:creator>{}</dc:creator><dc:description>{}</dc:description>\
             <dc:identifier>{}</dc:identifier><version>{}</version><keywords>{}</keywords>\
             <lastModifiedBy>cargo xtask pack</lastModifiedBy></coreProperties>\n",
            escape(&self.authors),
            escape(&self.description),
            escape(&self.id),
            escape(&self.version),
            escape(&self.tags.join(" ")),
        )
    }
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
    let prerelease = manifest
        .table("PrivateData")
        .and_then(|p| p.table("PSData"))
        .and_then(|d| d.str("Prerelease"))
        .unwrap_or_default();
    if !prerelease.is_empty() {
        text = format!("{text}-{prerelease}");
    }
    Ok(text)
}

fn version_parts(version: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = version.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| (2..=4).contains(&p.len()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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
const CORE_PROPERTIES_RELATIONSHIP: &str =
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties";
const CORE_PROPERTIES_FOLDER: &str = "package/services/metadata/core-properties/";

fn rels(nuspec: &str, core_properties: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Relationships \
         xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Type=\"{NUSPEC_RELATIONSHIP}\" Target=\"/{nuspec}\" Id=\"R{}\" />\
         <Relationship Type=\"{CORE_PROPERTIES_RELATIONSHIP}\" Target=\"/{core_properties}\" Id=\"R{}\" />\
         </Relationships>\n",
        &hash_hex(nuspec)[..16],
        &hash_hex(core_properties)[..16],
    )
}

/// `[Content_Types].xml`: a default content type for each extension in the package.
fn content_types(names: &[String]) -> String {
    let extensions: BTreeSet<String> = names
        .iter()
        .filter_map(|name| extension(name))
        .map(|e| e.to_ascii_lowercase())
        .collect();
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Types \
         xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">",
    );
    for extension in extensions {
        let content_type = match extension.as_str() {
            "rels" => "application/vnd.openxmlformats-package.relationships+xml",
            "psmdcp" => "application/vnd.openxmlformats-package.core-properties+xml",
            _ => "application/octet",
        };
        xml.push_str(&format!(
            "<Default Extension=\"{extension}\" ContentType=\"{content_type}\" />"
        ));
    }
    xml.push_str("</Types>\n");
    xml
}

fn extension(name: &str) -> Option<&str> {
    let file = name.rsplit('/').next()?;
    file.rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty())
}

/// 32 hex digits from the text (std's SipHash with fixed keys: the same on every machine).
fn hash_hex(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut hasher);
        text.hash(&mut hasher);
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

/// The module folder's files, relative with `/`, sorted.
fn module_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    fn walk(base: &Path, dir: &Path, into: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("list {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, into)?;
            } else {
                let relative = path
                    .strip_prefix(base)
                    .map_err(|e| e.to_string())?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                into.push((relative, path));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    Ok(files)
}

/// Writes `<out_dir>/<id>.<version>.nupkg` from the module folder `module_dir` (whose manifest
/// is `<id>.psd1`) and returns its path. The zip is the same for the same files: entries are in
/// name order with a fixed time.
pub fn pack(module_dir: &Path, out_dir: &Path) -> Result<PathBuf, String> {
    let manifest_path = module_dir.join(format!("{ID}.psd1"));
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("read {}: {e}", manifest_path.display()))?;
    let manifest = psd1::parse(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let metadata = Metadata::from_manifest(ID, &manifest)?;
    let files = module_files(module_dir)?;

    let nuspec_name = format!("{ID}.nuspec");
    let core_properties_name = format!("{CORE_PROPERTIES_FOLDER}{}.psmdcp", hash_hex(&text));
    let mut parts: Vec<(String, Vec<u8>)> = vec![
        (
            "_rels/.rels".into(),
            rels(&nuspec_name, &core_properties_name).into_bytes(),
        ),
        (nuspec_name, metadata.nuspec().into_bytes()),
    ];
    for (relative, path) in &files {
        let bytes = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
        parts.push((relative.clone(), bytes));
    }
    parts.push((
        core_properties_name,
        metadata.core_properties().into_bytes(),
    ));
    let names: Vec<String> = parts.iter().map(|(name, _)| name.clone()).collect();
    parts.push((
        "[Content_Types].xml".into(),
        content_types(&names).into_bytes(),
    ));

    std::fs::create_dir_all(out_dir).map_err(|e| format!("create {}: {e}", out_dir.display()))?;
    let target = out_dir.join(format!("{ID}.{}.nupkg", metadata.version));
    let partial = target.with_extension("nupkg.partial");
    write_zip(&partial, &parts).map_err(|e| format!("write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, &target).map_err(|e| format!("write {}: {e}", target.display()))?;
    Ok(target)
}

fn write_zip(path: &Path, parts: &[(String, Vec<u8>)]) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in parts {
        zip.start_file(name.as_str(), options)
            .map_err(|e| e.to_string())?;
        zip.write_all(bytes).map_err(|e| e.to_string())?;
    }
    zip.finish()
        .map_err(|e| e.to_string())?
        .flush()
        .map_err(|e| e.to_string())
}

/// Problems with the manifest itself, before any packing: what the gallery and this project ask
/// of it (explicit exports, the original's GUID and a higher version, both editions, PowerShell
/// 5.1, the .NET Framework 4.7.2 that netstandard2.0 needs there, license, project, notes, tags).
pub fn manifest_problems(manifest: &Table) -> Vec<String> {
    const KEYS: [&str; 31] = [
        "RootModule",
        "ModuleToProcess",
        "ModuleVersion",
        "CompatiblePSEditions",
        "GUID",
        "Author",
        "CompanyName",
        "Copyright",
        "Description",
        "PowerShellVersion",
        "PowerShellHostName",
        "PowerShellHostVersion",
        "DotNetFrameworkVersion",
        "CLRVersion",
        "ProcessorArchitecture",
        "RequiredModules",
        "RequiredAssemblies",
        "ScriptsToProcess",
        "TypesToProcess",
        "FormatsToProcess",
        "NestedModules",
        "FunctionsToExport",
        "CmdletsToExport",
        "VariablesToExport",
        "AliasesToExport",
        "DscResourcesToExport",
        "ModuleList",
        "FileList",
        "PrivateData",
        "HelpInfoURI",
        "DefaultCommandPrefix",
    ];
    let mut problems = Vec::new();
    for (key, _) in &manifest.0 {
        if !KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            problems.push(format!(
                "'{key}' is not a module manifest key (Test-ModuleManifest refuses it)"
            ));
        }
    }
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
    let data = manifest
        .table("PrivateData")
        .and_then(|p| p.table("PSData"))
        .cloned()
        .unwrap_or_default();
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
pub fn check(nupkg: &Path, all_runtimes: bool) -> Result<Report, String> {
    let entries = read_zip(nupkg)?;
    let mut problems = Vec::new();
    let find = |name: &str| entries.iter().find(|(n, _)| n == name).map(|(_, b)| b);

    let mut seen = BTreeSet::new();
    for (name, _) in &entries {
        if !seen.insert(name.to_ascii_lowercase()) {
            problems.push(format!("{name} is in the package twice"));
        }
        if name.contains('\\')
            || name.starts_with('/')
            || name.split('/').any(|s| s == ".." || s.is_empty())
        {
            problems.push(format!("'{name}' is not a plain relative path"));
        }
    }

    // The module manifest and the nuspec, which must agree.
    let manifest = match find(&format!("{ID}.psd1")) {
        None => return Err(format!("{}: no {ID}.psd1 at the root", nupkg.display())),
        Some(bytes) => psd1::parse(&String::from_utf8_lossy(bytes))
            .map_err(|e| format!("{}: {ID}.psd1: {e}", nupkg.display()))?,
    };
    problems.extend(manifest_problems(&manifest));
    let expected = Metadata::from_manifest(ID, &manifest)?;
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
            if key == "NestedModules" && file.to_ascii_lowercase().ends_with(".dll") {
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
        let metadata = name == "[Content_Types].xml"
            || name == "_rels/.rels"
            || *name == nuspec_name
            || (name.starts_with(CORE_PROPERTIES_FOLDER) && name.ends_with(".psmdcp"));
        if metadata {
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
                "  checks passed: nuspec agrees with the manifest, {} cmdlets tagged, every referenced file present, nothing else, native libraries stripped",
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

    const MANIFEST: &str = "@{
        RootModule = 'MSCommerce.psm1'
        NestedModules = @('MSCommerce.dll')
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

    /// A module folder like the real one, with an ELF library that has the given sections.
    fn module(dir: &Path, sections: &[&str]) {
        let files: [(&str, Vec<u8>); 6] = [
            ("MSCommerce.psd1", MANIFEST.as_bytes().to_vec()),
            ("MSCommerce.psm1", b"Write-Host 'x'".to_vec()),
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
    }

    #[test]
    fn a_packed_module_passes_the_check_and_its_nuspec_follows_the_manifest() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("module");
        module(&dir, &[".text", ".dynsym"]);
        let nupkg = pack(&dir, &temp.path().join("out")).unwrap();
        assert_eq!(nupkg.file_name().unwrap(), "MSCommerce.4.1.0.nupkg");
        let report = check(&nupkg, false).unwrap();
        assert_eq!(report.runtimes, ["linux-x64"]);
        assert_eq!(report.cmdlets, 2);
        assert_eq!(report.files.len(), 6);

        let entries = read_zip(&nupkg).unwrap();
        let nuspec = String::from_utf8(
            entries
                .iter()
                .find(|(n, _)| n == "MSCommerce.nuspec")
                .unwrap()
                .1
                .clone(),
        )
        .unwrap();
        assert_eq!(element_text(&nuspec, "id").as_deref(), Some("MSCommerce"));
        assert_eq!(element_text(&nuspec, "authors").as_deref(), Some("A & B"));
        assert!(nuspec.contains("<description>Allow &lt;or&gt; block.</description>"));
        assert_eq!(
            element_text(&nuspec, "tags").unwrap(),
            "MSCommerce Windows PSModule PSEdition_Desktop PSEdition_Core PSIncludes_Cmdlet \
             PSCmdlet_Get-MSCommercePolicy PSCommand_Get-MSCommercePolicy \
             PSCmdlet_Update-MSCommerceProductPolicy PSCommand_Update-MSCommerceProductPolicy"
        );
        // The same files give the same bytes.
        let again = pack(&dir, &temp.path().join("again")).unwrap();
        assert_eq!(
            std::fs::read(&nupkg).unwrap(),
            std::fs::read(again).unwrap()
        );
        // Six runtimes are asked for only of the release package.
        assert!(check(&nupkg, true)
            .unwrap_err()
            .contains("runtimes/osx-arm64/native/libmscommerce_core.dylib is missing"));
    }

    #[test]
    fn the_check_names_stray_files_unstripped_libraries_and_missing_references() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("module");
        module(&dir, &[".text", ".symtab"]);
        std::fs::write(dir.join("MSCommerce.pdb"), b"x").unwrap();
        std::fs::write(dir.join("MSCommerce.xml"), b"<doc/>").unwrap();
        std::fs::create_dir_all(dir.join("runtimes/osx-arm64/native")).unwrap();
        std::fs::write(
            dir.join("runtimes/osx-arm64/native/libmscommerce_core.dylib"),
            crate::binary::tests::elf_with_sections(&[]),
        )
        .unwrap();
        std::fs::remove_file(dir.join("MSCommerce.Format.ps1xml")).unwrap();
        let nupkg = pack(&dir, temp.path()).unwrap();
        let error = check(&nupkg, false).unwrap_err();
        for expected in [
            "MSCommerce.pdb is debug symbols",
            "MSCommerce.xml is neither named by the manifest nor a native library",
            "libmscommerce_core.so is not stripped: it has .symtab",
            "runtimes/osx-arm64/native/libmscommerce_core.dylib is a linux-x64 library in the osx-arm64 folder",
            "FormatsToProcess names MSCommerce.Format.ps1xml, which is missing",
        ] {
            assert!(error.contains(expected), "{expected}\nnot in\n{error}");
        }
    }

    #[test]
    fn a_nuspec_that_disagrees_with_the_manifest_or_lacks_a_cmdlet_tag_fails() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("module");
        module(&dir, &[]);
        let good = pack(&dir, temp.path()).unwrap();
        // Rewrite the package with a nuspec that has an old version and no tag for one cmdlet.
        let entries: Vec<Entry> = read_zip(&good)
            .unwrap()
            .into_iter()
            .map(|(name, bytes)| {
                if name == "MSCommerce.nuspec" {
                    let text = String::from_utf8(bytes)
                        .unwrap()
                        .replace("<version>4.1.0</version>", "<version>4.0.0</version>")
                        .replace(" PSCmdlet_Update-MSCommerceProductPolicy", "");
                    (name, text.into_bytes())
                } else {
                    (name, bytes)
                }
            })
            .collect();
        write_zip(&good, &entries).unwrap();
        let error = check(&good, false).unwrap_err();
        assert!(error.contains("nuspec <version> is '4.0.0' but the manifest says '4.1.0'"));
        assert!(error.contains("nuspec <tags> lacks PSCmdlet_Update-MSCommerceProductPolicy"));
    }

    #[test]
    fn manifest_rules_catch_wildcards_old_versions_and_unknown_keys() {
        let bad = MANIFEST
            .replace("'4.1.0'", "'3.0.1'")
            .replace(
                "CmdletsToExport = @('Get-MSCommercePolicy', 'Update-MSCommerceProductPolicy')",
                "CmdletsToExport = '*'",
            )
            .replace("FunctionsToExport = @()", "FunctionToExport = @()");
        let problems = manifest_problems(&psd1::parse(&bad).unwrap()).join("\n");
        assert!(
            problems.contains("above the original's 3.0.1"),
            "{problems}"
        );
        assert!(problems.contains("CmdletsToExport has the wildcard '*'"));
        assert!(problems.contains("FunctionsToExport is missing"));
        assert!(problems.contains("'FunctionToExport' is not a module manifest key"));
        assert!(manifest_problems(&psd1::parse(MANIFEST).unwrap()).is_empty());
    }

    #[test]
    fn the_project_manifest_meets_the_gallery_rules() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let text = std::fs::read_to_string(root.join("MSCommerce.psd1")).unwrap();
        let manifest = psd1::parse(&text).unwrap();
        assert_eq!(manifest_problems(&manifest), Vec::<String>::new());
        let metadata = Metadata::from_manifest(ID, &manifest).unwrap();
        for cmdlet in manifest.strings("CmdletsToExport") {
            assert!(metadata.tags.contains(&format!("PSCmdlet_{cmdlet}")));
        }
    }

    #[test]
    fn versions_are_normalised_as_nuget_does() {
        let version = |v: &str, pre: &str| {
            let text = format!(
                "@{{ ModuleVersion = '{v}'; PrivateData = @{{ PSData = @{{ Prerelease = '{pre}' }} }} }}"
            );
            package_version(&psd1::parse(&text).unwrap())
        };
        assert_eq!(version("4.0.0.0", "").unwrap(), "4.0.0");
        assert_eq!(version("4.0", "").unwrap(), "4.0.0");
        assert_eq!(version("4.0.1", "rc1").unwrap(), "4.0.1-rc1");
        assert!(version("four", "").is_err());
    }
}
