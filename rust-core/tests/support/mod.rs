//! Test support: the built cdylib loaded through libloading, and a tiny canned HTTP server on
//! 127.0.0.1:0 that records what it was sent and stops when dropped.

#![allow(dead_code)]

use std::ffi::{c_char, CStr, CString};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub type LogCallback = Option<unsafe extern "C" fn(u64, i32, *const c_char)>;
pub type ProgressCallback = Option<unsafe extern "C" fn(u64, *const c_char)>;

/// The exports of the native library, resolved once.
pub struct Native {
    _lib: libloading::Library,
    pub abi_version: unsafe extern "C" fn() -> u32,
    pub client_new: unsafe extern "C" fn(*const c_char, *mut u64, *mut *mut c_char) -> i32,
    pub client_free: unsafe extern "C" fn(u64) -> i32,
    pub invoke: unsafe extern "C" fn(u64, *const c_char, u64, *mut *mut c_char) -> i32,
    pub string_free: unsafe extern "C" fn(*mut c_char),
    pub cancel_new: unsafe extern "C" fn(*mut u64) -> i32,
    pub cancel_cancel: unsafe extern "C" fn(u64) -> i32,
    pub cancel_free: unsafe extern "C" fn(u64) -> i32,
    pub set_log_callback: unsafe extern "C" fn(LogCallback) -> i32,
    pub set_progress_callback: unsafe extern "C" fn(ProgressCallback) -> i32,
}

/// The cdylib cargo built for this test run. `cargo test` writes it beside the test binary in
/// target/<profile>/deps/ (only `cargo build` copies it up to target/<profile>/), so prefer that
/// one: the copy above may be stale.
pub fn library_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("target/<profile>/deps");
    let name = libloading::library_filename("mscommerce_core");
    let fresh = deps.join(&name);
    if fresh.is_file() {
        return fresh;
    }
    deps.parent().expect("target/<profile>").join(name)
}

impl Native {
    pub fn load() -> Native {
        let path = library_path();
        // SAFETY: loading our own library; its initialisers have no preconditions.
        let lib = unsafe { libloading::Library::new(&path) }
            .unwrap_or_else(|e| panic!("load {}: {e}", path.display()));
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the signatures match rust-core/mscommerce.h.
                *unsafe { lib.get($name.as_bytes()) }.expect($name)
            };
        }
        Native {
            abi_version: sym!("mc_abi_version"),
            client_new: sym!("mc_client_new"),
            client_free: sym!("mc_client_free"),
            invoke: sym!("mc_invoke"),
            string_free: sym!("mc_string_free"),
            cancel_new: sym!("mc_cancel_new"),
            cancel_cancel: sym!("mc_cancel_cancel"),
            cancel_free: sym!("mc_cancel_free"),
            set_log_callback: sym!("mc_set_log_callback"),
            set_progress_callback: sym!("mc_set_progress_callback"),
            _lib: lib,
        }
    }

    /// Takes ownership of a returned string: parses it and frees it.
    pub fn take(&self, ptr: *mut c_char) -> serde_json::Value {
        assert!(!ptr.is_null(), "the library wrote no envelope");
        // SAFETY: the library returned a NUL-terminated string it owns until we free it.
        let text = unsafe { CStr::from_ptr(ptr) }
            .to_str()
            .expect("UTF-8 envelope")
            .to_owned();
        unsafe { (self.string_free)(ptr) };
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("envelope {text}: {e}"))
    }

    /// Creates a client, panicking on failure.
    pub fn client(&self, config: &str) -> u64 {
        let config = CString::new(config).unwrap();
        let mut handle = 0u64;
        let mut out = std::ptr::null_mut();
        let status = unsafe { (self.client_new)(config.as_ptr(), &mut handle, &mut out) };
        let envelope = self.take(out);
        assert_eq!(status, 0, "{envelope}");
        handle
    }

    /// Runs a request and returns (status, envelope).
    pub fn call(&self, client: u64, request: &str, cancel: u64) -> (i32, serde_json::Value) {
        let request = CString::new(request).unwrap();
        let mut out = std::ptr::null_mut();
        let status = unsafe { (self.invoke)(client, request.as_ptr(), cancel, &mut out) };
        (status, self.take(out))
    }
}

/// A canned HTTP/1.1 server: answers every request with the reply `route` picks for its path,
/// and records each request's head.
pub struct CannedServer {
    pub uri: String,
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A reply: status, body; `None` to hold the connection open without answering.
pub type Route = fn(&str) -> Option<(u16, String)>;

impl CannedServer {
    pub fn start(route: Route) -> CannedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let uri = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopping) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (log, stopping) = (log.clone(), stopping.clone());
                        std::thread::spawn(move || serve(stream, route, &log, &stopping));
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        CannedServer {
            uri,
            requests,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, route: Route, log: &Mutex<Vec<String>>, stop: &AtomicBool) {
    stream.set_nonblocking(false).ok();
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
            return;
        }
        log.lock()
            .unwrap()
            .push(format!("{head}\r\n{}", String::from_utf8_lossy(&body)));
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        match route(&path) {
            Some((status, body)) => {
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if writer.write_all(reply.as_bytes()).is_err() {
                    return;
                }
            }
            None => {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                return;
            }
        }
    }
}

/// The service's answers for the tests: one policy, one product, 404 for anything else; the
/// path `/hang/...` never answers.
pub fn licensing(path: &str) -> Option<(u16, String)> {
    if path.starts_with("/hang") {
        return None;
    }
    Some(match path {
        "/v1.0/policies" => (200, r#"{"items":[{"id":"AllowSelfServicePurchase","description":"Self-service purchase","defaultValue":"Enabled"}]}"#.into()),
        "/v1.0/policies/AllowSelfServicePurchase/products?scope=product" => (200, r#"{"items":[{"policyId":"AllowSelfServicePurchase","policyValue":"Disabled","productName":"Power BI Pro","productId":"CFQ7TTC0H9MP"}]}"#.into()),
        "/v1.0/policies/AllowSelfServicePurchase/products/CFQ7TTC0H9MP" => (200, r#"{"policyId":"AllowSelfServicePurchase","policyValue":"Disabled","productName":"Power BI Pro","productId":"CFQ7TTC0H9MP"}"#.into()),
        "/v1.0/policies/Truncated" => (200, r#"{"id":"Trunc"#.into()),
        _ => (404, r#"{"errorCode":"Unknown","reason":"Not found."}"#.into()),
    })
}
