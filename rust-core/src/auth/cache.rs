//! The token cache: one signed-in account per authority and client id, whose refresh token lets
//! a later PowerShell process reconnect without a prompt.
//!
//! Entries live in the OS secret store (Windows Credential Manager, the macOS Keychain, the
//! Secret Service on Linux) under the service name `MSCommerce`. Where no secret store answers,
//! for example on a server without a desktop session, they live in a file that only the user can
//! read, and the sign-in warns that this is so. `MSCOMMERCE_TOKEN_CACHE` chooses: `auto` (the
//! default: the secret store, else the file), `os` (the secret store or nothing) or `file`;
//! `MSCOMMERCE_TOKEN_CACHE_DIR` moves the file. Both, and the folders the default file lives
//! under, are read from the variables the shim passed (see [`crate::settings`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::signin::SignIn;
use super::tokens::TokenSet;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::settings::Variables;

/// The service name of the entries in the OS secret store.
pub const SERVICE: &str = "MSCommerce";

/// The variable choosing the store: `auto`, `os` or `file`.
pub const MODE_VARIABLE: &str = "MSCOMMERCE_TOKEN_CACHE";

/// The variable naming the folder of the file store.
pub const DIR_VARIABLE: &str = "MSCOMMERCE_TOKEN_CACHE_DIR";

/// A secret store may show a dialog (an unlock prompt) that nobody answers on a server: give up
/// after this long rather than hang the sign-in.
const STORE_TIMEOUT: Duration = Duration::from_secs(15);

/// What the cache keeps of a signed-in account.
#[derive(Debug, Clone)]
pub struct CachedAccount {
    /// The refresh token.
    pub refresh: Secret,
    /// The account's sign-in name, when known.
    pub upn: Option<String>,
    /// The account's own (home) tenant id, when known.
    pub tenant_id: Option<String>,
}

impl CachedAccount {
    /// What to keep of freshly obtained tokens; `None` when the authority gave no refresh token.
    pub fn from_tokens(tokens: &TokenSet) -> Option<Self> {
        Some(CachedAccount {
            refresh: tokens.refresh.clone()?,
            upn: tokens.account.upn.clone(),
            // The account's own tenant, not the customer's it signed in to last: the next
            // session starts from home and reaches customers from there.
            tenant_id: tokens
                .account
                .home_tenant_id
                .clone()
                .or_else(|| tokens.account.tenant_id.clone()),
        })
    }

    /// Whether this account can serve a sign-in to `tenant` (as requested) with `login_hint`.
    pub fn serves(&self, tenant: &str, login_hint: Option<&str>) -> bool {
        let any_tenant = ["organizations", "common"]
            .iter()
            .any(|t| tenant.eq_ignore_ascii_case(t));
        let tenant_ok = any_tenant
            || self
                .tenant_id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(tenant))
            || self.upn.as_deref().is_some_and(|upn| {
                upn.rsplit('@')
                    .next()
                    .is_some_and(|domain| domain.eq_ignore_ascii_case(tenant))
            });
        let hint_ok = login_hint.is_none_or(|hint| {
            self.upn
                .as_deref()
                .is_some_and(|upn| upn.eq_ignore_ascii_case(hint))
        });
        tenant_ok && hint_ok
    }
}

/// The stored form of an entry (JSON). `v` lets a later version read or discard older entries.
#[derive(Serialize, Deserialize)]
struct Stored {
    v: u32,
    refresh_token: String,
    upn: Option<String>,
    tenant_id: Option<String>,
    saved_at: u64,
}

/// The key of the entry for a sign-in configuration: the authority and the client id.
pub fn key_of(signin: &SignIn) -> String {
    format!(
        "{}|{}",
        signin.authority_uri.as_str().trim_end_matches('/'),
        signin.client_id
    )
}

/// Why a store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(String);

/// Somewhere entries can be kept.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// The entry under `key`, if there is one.
    fn get(&self, key: &str) -> std::result::Result<Option<String>, StoreError>;
    /// Keeps `value` under `key`, replacing what was there.
    fn set(&self, key: &str, value: &str) -> std::result::Result<(), StoreError>;
    /// Removes the entry under `key`; true when there was one.
    fn delete(&self, key: &str) -> std::result::Result<bool, StoreError>;
    /// Where entries go, for `Get-MSCommerceConnection` and messages.
    fn describe(&self) -> String;
    /// The longest value one entry holds; longer values are split over several entries.
    fn max_value_len(&self) -> usize {
        usize::MAX
    }
}

/// The OS secret store, through the `keyring` crate.
#[derive(Debug, Default)]
pub struct OsStore;

impl OsStore {
    fn entry(key: &str) -> std::result::Result<keyring::Entry, StoreError> {
        keyring::Entry::new(SERVICE, key).map_err(|e| StoreError(e.to_string()))
    }

    /// Whether the store answers at all: reading an entry that does not exist must say so.
    pub fn probe(&self) -> std::result::Result<(), StoreError> {
        self.get("probe").map(|_| ())
    }
}

impl SecretStore for OsStore {
    fn get(&self, key: &str) -> std::result::Result<Option<String>, StoreError> {
        match Self::entry(key)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(StoreError(e.to_string())),
        }
    }

    fn set(&self, key: &str, value: &str) -> std::result::Result<(), StoreError> {
        Self::entry(key)?
            .set_password(value)
            .map_err(|e| StoreError(e.to_string()))
    }

    fn delete(&self, key: &str) -> std::result::Result<bool, StoreError> {
        match Self::entry(key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(StoreError(e.to_string())),
        }
    }

    fn max_value_len(&self) -> usize {
        // Credential Manager keeps at most 2560 bytes a credential, and keyring stores the
        // password as UTF-16: 1280 characters. Entra refresh tokens are often longer.
        if cfg!(windows) {
            1200
        } else {
            usize::MAX
        }
    }

    fn describe(&self) -> String {
        if cfg!(windows) {
            "Windows Credential Manager".into()
        } else if cfg!(target_os = "macos") {
            "macOS Keychain".into()
        } else {
            "Secret Service".into()
        }
    }
}

/// Entries as files only the user can read (mode 0600 in a 0700 folder on Unix; under the
/// user's profile on Windows), one file per key.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore { dir: dir.into() }
    }

    /// The per-user default folder under the folders `variables` name (`LOCALAPPDATA` on
    /// Windows, `HOME` on macOS, `XDG_DATA_HOME` else `HOME` elsewhere), if they name one.
    pub fn default_dir(variables: &Variables) -> Option<PathBuf> {
        let var = |name: &str| {
            variables
                .get(name)
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
        };
        let base = if cfg!(windows) {
            var("LOCALAPPDATA")?
        } else if cfg!(target_os = "macos") {
            var("HOME")?.join("Library").join("Application Support")
        } else {
            var("XDG_DATA_HOME").or_else(|| var("HOME").map(|h| h.join(".local").join("share")))?
        };
        Some(base.join("MSCommerce"))
    }

    /// The file of `key`: named by a hash, so a key never becomes a path.
    fn path(&self, key: &str) -> PathBuf {
        let hash = Sha256::digest(key.as_bytes());
        let name: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("token-cache-{name}.json"))
    }
}

impl SecretStore for FileStore {
    fn get(&self, key: &str) -> std::result::Result<Option<String>, StoreError> {
        match std::fs::read_to_string(self.path(key)) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError(format!("{}: {e}", self.path(key).display()))),
        }
    }

    fn set(&self, key: &str, value: &str) -> std::result::Result<(), StoreError> {
        let fail = |path: &Path, e: std::io::Error| StoreError(format!("{}: {e}", path.display()));
        create_private_dir(&self.dir).map_err(|e| fail(&self.dir, e))?;
        let path = self.path(key);
        // Write a private temporary file and rename it over the entry, so a crash never leaves
        // a half-written entry and the secret is never readable by others, even briefly.
        let temp = path.with_extension(format!("{}.tmp", std::process::id()));
        write_private_file(&temp, value.as_bytes()).map_err(|e| fail(&temp, e))?;
        std::fs::rename(&temp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            fail(&path, e)
        })
    }

    fn delete(&self, key: &str) -> std::result::Result<bool, StoreError> {
        match std::fs::remove_file(self.path(key)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError(format!("{}: {e}", self.path(key).display()))),
        }
    }

    fn describe(&self) -> String {
        format!("file {}", self.dir.display())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The cache a sign-in uses: a store, and the warning to show when it is the fallback file.
#[derive(Debug, Clone)]
pub struct TokenCache {
    store: Arc<dyn SecretStore>,
    warning: Option<String>,
}

impl TokenCache {
    /// A cache over `store`, with no warning.
    pub fn with_store(store: Arc<dyn SecretStore>) -> Self {
        TokenCache {
            store,
            warning: None,
        }
    }

    /// Opens the cache `variables` ask for (see the module's documentation).
    pub async fn open(variables: &Variables) -> Result<Self> {
        let mode = variables.get(MODE_VARIABLE).unwrap_or_default();
        let dir = variables
            .get(DIR_VARIABLE)
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from);
        match mode.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => {
                let os = Arc::new(OsStore);
                let probe = os.clone();
                match blocking(move || probe.probe()).await {
                    Ok(()) => Ok(Self::with_store(os)),
                    Err(why) => Self::fallback(dir, variables, &why),
                }
            }
            "os" => Ok(Self::with_store(Arc::new(OsStore))),
            "file" => {
                let dir = dir
                    .or_else(|| FileStore::default_dir(variables))
                    .ok_or_else(no_folder)?;
                Ok(Self::with_store(Arc::new(FileStore::new(dir))))
            }
            // The value is not repeated: values of variables never appear in messages.
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{MODE_VARIABLE} must be auto, os or file."),
            )),
        }
    }

    /// The file store in `dir`, else the default folder of `variables`, with the warning that
    /// says why it is used.
    pub fn fallback(dir: Option<PathBuf>, variables: &Variables, why: &StoreError) -> Result<Self> {
        let dir = dir
            .or_else(|| FileStore::default_dir(variables))
            .ok_or_else(no_folder)?;
        let warning = format!(
            "No OS secret store is available ({why}). The MSCommerce token cache is kept in {} \
             instead, readable only by your account. Use -ContextScope Process to keep nothing.",
            dir.display()
        );
        Ok(TokenCache {
            store: Arc::new(FileStore::new(dir)),
            warning: Some(warning),
        })
    }

    /// The warning to show when the cache is written, if its store is the fallback.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// Where entries go.
    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// The account cached under `key`, if any. An entry this version cannot read counts as none.
    pub async fn load(&self, key: &str) -> Result<Option<CachedAccount>> {
        let store = self.store.clone();
        let owned = key.to_owned();
        let text = blocking(move || get_split(&*store, &owned))
            .await
            .map_err(|e| self.failed("read", e))?;
        Ok(text
            .and_then(|text| serde_json::from_str::<Stored>(&text).ok())
            .filter(|stored| stored.v == 1)
            .and_then(|stored| {
                Some(CachedAccount {
                    refresh: Secret::new(stored.refresh_token)?,
                    upn: stored.upn,
                    tenant_id: stored.tenant_id,
                })
            }))
    }

    /// Keeps `account` under `key`.
    pub async fn save(&self, key: &str, account: &CachedAccount) -> Result<()> {
        let stored = Stored {
            v: 1,
            refresh_token: account.refresh.expose().to_owned(),
            upn: account.upn.clone(),
            tenant_id: account.tenant_id.clone(),
            saved_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        let text = serde_json::to_string(&stored).map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("Could not encode the cache entry: {e}"),
            )
        })?;
        let store = self.store.clone();
        let owned = key.to_owned();
        blocking(move || set_split(&*store, &owned, &text))
            .await
            .map_err(|e| self.failed("write", e))
    }

    /// Forgets the account under `key`; true when there was one.
    pub async fn remove(&self, key: &str) -> Result<bool> {
        let store = self.store.clone();
        let owned = key.to_owned();
        blocking(move || delete_split(&*store, &owned))
            .await
            .map_err(|e| self.failed("remove", e))
    }

    fn failed(&self, what: &str, why: StoreError) -> Error {
        Error::new(
            ErrorKind::TokenCache,
            format!(
                "Could not {what} the token cache ({}): {why}",
                self.store.describe()
            ),
        )
    }
}

/// The main entry of a value split over several entries: `parts:<n>`; part `i` (from 1) is the
/// entry `<key>#<i>`. A whole value is JSON and never starts like this.
const PARTS_PREFIX: &str = "parts:";

fn part_key(key: &str, part: usize) -> String {
    format!("{key}#{part}")
}

fn parts_of(main: &str) -> Option<usize> {
    main.strip_prefix(PARTS_PREFIX)?.parse().ok()
}

/// Reads a value, joining its parts when it was split.
fn get_split(
    store: &dyn SecretStore,
    key: &str,
) -> std::result::Result<Option<String>, StoreError> {
    let Some(main) = store.get(key)? else {
        return Ok(None);
    };
    let Some(parts) = parts_of(&main) else {
        return Ok(Some(main));
    };
    let mut whole = String::new();
    for part in 1..=parts {
        match store.get(&part_key(key, part))? {
            Some(text) => whole.push_str(&text),
            // A part is missing (a write was cut short): the value is gone.
            None => return Ok(None),
        }
    }
    Ok(Some(whole))
}

/// Writes a value, split over several entries when the store's entries are too small. The
/// parts go first and the main entry last, so a reader never sees a main entry whose parts are
/// not there yet; parts of an earlier, longer value are removed afterwards.
fn set_split(
    store: &dyn SecretStore,
    key: &str,
    value: &str,
) -> std::result::Result<(), StoreError> {
    let before = store
        .get(key)
        .ok()
        .flatten()
        .as_deref()
        .and_then(parts_of)
        .unwrap_or(0);
    let limit = store.max_value_len().max(PARTS_PREFIX.len() + 20);
    let parts = if value.len() <= limit {
        store.set(key, value)?;
        0
    } else {
        // Values are JSON of ASCII characters (tokens are base64url), so byte chunks are
        // character chunks; split on char boundaries anyway.
        let mut chunks = Vec::new();
        let mut rest = value;
        while !rest.is_empty() {
            let mut end = limit.min(rest.len());
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            chunks.push(&rest[..end]);
            rest = &rest[end..];
        }
        for (index, chunk) in chunks.iter().enumerate() {
            store.set(&part_key(key, index + 1), chunk)?;
        }
        store.set(key, &format!("{PARTS_PREFIX}{}", chunks.len()))?;
        chunks.len()
    };
    for stale in parts + 1..=before {
        store.delete(&part_key(key, stale))?;
    }
    Ok(())
}

/// Removes a value and its parts; true when there was one.
fn delete_split(store: &dyn SecretStore, key: &str) -> std::result::Result<bool, StoreError> {
    let parts = store.get(key)?.as_deref().and_then(parts_of).unwrap_or(0);
    let existed = store.delete(key)?;
    for part in 1..=parts {
        store.delete(&part_key(key, part))?;
    }
    Ok(existed)
}

fn no_folder() -> Error {
    Error::new(
        ErrorKind::TokenCache,
        format!("No folder for the token cache: set {DIR_VARIABLE} or HOME."),
    )
}

/// Runs a store call off the async workers (secret stores block), giving up after
/// [`STORE_TIMEOUT`].
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::result::Result<T, StoreError> + Send + 'static,
) -> std::result::Result<T, StoreError> {
    match tokio::time::timeout(STORE_TIMEOUT, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(StoreError(format!("the store failed: {join}"))),
        Err(_) => Err(StoreError(format!(
            "the store did not answer within {} seconds",
            STORE_TIMEOUT.as_secs()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::signin::RawSignIn;

    fn account() -> CachedAccount {
        CachedAccount {
            refresh: Secret::new("refresh-token-value").unwrap(),
            upn: Some("admin@contoso.onmicrosoft.com".into()),
            tenant_id: Some("00000000-0000-0000-0000-0000000c0de1".into()),
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn file_store_round_trips_and_forgets_an_account() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::with_store(Arc::new(FileStore::new(dir.path().join("cache"))));
        runtime().block_on(async {
            assert!(cache.load("k").await.unwrap().is_none());
            cache.save("k", &account()).await.unwrap();
            let loaded = cache.load("k").await.unwrap().unwrap();
            assert_eq!(loaded.refresh.expose(), "refresh-token-value");
            assert_eq!(loaded.upn.as_deref(), Some("admin@contoso.onmicrosoft.com"));
            assert!(cache.remove("k").await.unwrap());
            assert!(!cache.remove("k").await.unwrap());
            assert!(cache.load("k").await.unwrap().is_none());
        });
    }

    #[cfg(unix)]
    #[test]
    fn file_store_is_readable_only_by_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("cache");
        let store = FileStore::new(&folder);
        store.set("k", "v").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&store.path("k")), 0o600);
    }

    #[test]
    fn file_names_never_come_from_the_key() {
        let store = FileStore::new("/cache");
        let path = store.path("../../etc/passwd|x");
        assert_eq!(path.parent(), Some(Path::new("/cache")));
        assert!(!path.to_string_lossy().contains("passwd"));
    }

    #[test]
    fn fallback_says_where_the_file_is_and_why() {
        let cache = TokenCache::fallback(
            Some(PathBuf::from("/somewhere/MSCommerce")),
            &Variables::new(),
            &StoreError("no D-Bus session".into()),
        )
        .unwrap();
        let warning = cache.warning().unwrap();
        assert!(warning.contains("no D-Bus session"), "{warning}");
        assert!(warning.contains("/somewhere/MSCommerce"), "{warning}");
        assert!(!warning.contains("refresh"), "{warning}");
    }

    #[test]
    fn the_cache_is_where_the_variables_passed_say() {
        let dir = tempfile::tempdir().unwrap();
        let variables = Variables::from_pairs([
            (MODE_VARIABLE, "file".to_owned()),
            (DIR_VARIABLE, dir.path().display().to_string()),
        ]);
        let cache = runtime().block_on(TokenCache::open(&variables)).unwrap();
        assert_eq!(cache.describe(), format!("file {}", dir.path().display()));
        assert!(cache.warning().is_none());
    }

    #[test]
    fn the_default_folder_comes_from_the_variables_passed() {
        let home = Variables::from_pairs([("HOME", "/home/someone"), ("LOCALAPPDATA", "C:\\L")]);
        let expected = if cfg!(windows) {
            PathBuf::from("C:\\L").join("MSCommerce")
        } else if cfg!(target_os = "macos") {
            PathBuf::from("/home/someone/Library/Application Support/MSCommerce")
        } else {
            PathBuf::from("/home/someone/.local/share/MSCommerce")
        };
        assert_eq!(FileStore::default_dir(&home), Some(expected));
        if !cfg!(any(windows, target_os = "macos")) {
            let xdg = Variables::from_pairs([("HOME", "/home/someone"), ("XDG_DATA_HOME", "/x")]);
            assert_eq!(
                FileStore::default_dir(&xdg),
                Some(PathBuf::from("/x/MSCommerce"))
            );
        }
        assert_eq!(FileStore::default_dir(&Variables::new()), None);
    }

    #[test]
    fn an_unknown_mode_is_refused_without_repeating_it() {
        let variables = Variables::from_pairs([(MODE_VARIABLE, "vault-s3cret")]);
        let error = runtime()
            .block_on(TokenCache::open(&variables))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(!error.message().contains("s3cret"), "{}", error.message());
    }

    #[test]
    fn an_unreadable_entry_counts_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FileStore::new(dir.path()));
        store.set("k", "{not json").unwrap();
        let cache = TokenCache::with_store(store);
        assert!(runtime().block_on(cache.load("k")).unwrap().is_none());
    }

    #[test]
    fn cached_account_serves_its_tenant_its_domain_and_any_tenant() {
        let account = account();
        assert!(account.serves("organizations", None));
        assert!(account.serves("00000000-0000-0000-0000-0000000C0DE1", None));
        assert!(account.serves("contoso.onmicrosoft.com", None));
        assert!(!account.serves("fabrikam.onmicrosoft.com", None));
        assert!(account.serves("common", Some("ADMIN@contoso.onmicrosoft.com")));
        assert!(!account.serves("common", Some("billing@contoso.onmicrosoft.com")));
    }

    /// A store with tiny entries, like Credential Manager's but smaller.
    #[derive(Debug, Default)]
    struct SmallStore(std::sync::Mutex<std::collections::BTreeMap<String, String>>);

    impl SecretStore for SmallStore {
        fn get(&self, key: &str) -> std::result::Result<Option<String>, StoreError> {
            Ok(self.0.lock().unwrap().get(key).cloned())
        }
        fn set(&self, key: &str, value: &str) -> std::result::Result<(), StoreError> {
            if value.len() > self.max_value_len() {
                return Err(StoreError("too long".into()));
            }
            self.0.lock().unwrap().insert(key.into(), value.into());
            Ok(())
        }
        fn delete(&self, key: &str) -> std::result::Result<bool, StoreError> {
            Ok(self.0.lock().unwrap().remove(key).is_some())
        }
        fn describe(&self) -> String {
            "small".into()
        }
        fn max_value_len(&self) -> usize {
            100
        }
    }

    #[test]
    fn a_value_longer_than_an_entry_is_split_and_joined_back() {
        let store = Arc::new(SmallStore::default());
        let cache = TokenCache::with_store(store.clone());
        let long = CachedAccount {
            refresh: Secret::new("r".repeat(500)).unwrap(),
            ..account()
        };
        runtime().block_on(async {
            cache.save("k", &long).await.unwrap();
            assert!(
                store.0.lock().unwrap().len() > 3,
                "split over several entries"
            );
            let loaded = cache.load("k").await.unwrap().unwrap();
            assert_eq!(loaded.refresh.expose(), "r".repeat(500));
            // A shorter value replaces it whole, and the old parts go.
            cache
                .save(
                    "k",
                    &CachedAccount {
                        refresh: Secret::new("short").unwrap(),
                        upn: None,
                        tenant_id: None,
                    },
                )
                .await
                .unwrap();
            assert_eq!(
                cache.load("k").await.unwrap().unwrap().refresh.expose(),
                "short"
            );
            assert_eq!(store.0.lock().unwrap().len(), 1);
            cache.save("k", &long).await.unwrap();
            assert!(cache.remove("k").await.unwrap());
            assert!(store.0.lock().unwrap().is_empty());
        });
    }

    #[test]
    fn a_split_value_with_a_part_missing_counts_as_none() {
        let store = Arc::new(SmallStore::default());
        let cache = TokenCache::with_store(store.clone());
        let long = CachedAccount {
            refresh: Secret::new("r".repeat(500)).unwrap(),
            ..account()
        };
        runtime().block_on(async {
            cache.save("k", &long).await.unwrap();
            store.0.lock().unwrap().remove("k#3");
            assert!(cache.load("k").await.unwrap().is_none());
        });
    }

    #[test]
    fn key_is_the_authority_and_the_client() {
        let signin = SignIn::new(
            url::Url::parse(crate::auth::signin::DEFAULT_AUTHORITY_URI).unwrap(),
            &crate::auth::signin::Identity::from_raw(RawSignIn::default()).unwrap(),
        );
        assert_eq!(
            key_of(&signin),
            "https://login.microsoftonline.com|3d5cffa9-04da-4657-8cab-c7f074657cad"
        );
    }
}
