//! Log lines and progress flowing out of an operation, tagged with the operation's id so the
//! shim can route them to the PowerShell pipeline that started it.

use std::sync::{Arc, RwLock};

/// How important a log line is; the shim maps it to the PowerShell stream of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    /// An error (the error itself is also returned; this is for context).
    Error = 1,
    /// A warning the user should see.
    Warning = 2,
    /// Information.
    Information = 3,
    /// A verbose line (`-Verbose`).
    Verbose = 4,
    /// A debug line (`-Debug`).
    Debug = 5,
}

/// A progress report, serialized as `{"activity","status","percentComplete","completed"}`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// What is being done overall.
    pub activity: String,
    /// What is being done now.
    pub status: String,
    /// How far along, 0 to 100, or -1 when unknown.
    pub percent_complete: i32,
    /// True on the last report of an activity.
    pub completed: bool,
    /// 0 for the request's own progress bar; 1, 2, ... for a bar under it (one per tenant of
    /// a request that runs in several).
    pub bar: u32,
}

type LogFn = Arc<dyn Fn(u64, Level, &str) + Send + Sync>;
type ProgressFn = Arc<dyn Fn(u64, &Progress) + Send + Sync>;

static LOG: RwLock<Option<LogFn>> = RwLock::new(None);
static PROGRESS: RwLock<Option<ProgressFn>> = RwLock::new(None);

/// Sets (or with `None` clears) the process-wide receiver of log lines.
pub fn set_log_receiver(receiver: Option<LogFn>) {
    if let Ok(mut slot) = LOG.write() {
        *slot = receiver;
    }
}

/// Sets (or with `None` clears) the process-wide receiver of progress reports.
pub fn set_progress_receiver(receiver: Option<ProgressFn>) {
    if let Ok(mut slot) = PROGRESS.write() {
        *slot = receiver;
    }
}

/// Where one operation writes its log lines and progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sink {
    operation_id: u64,
}

impl Sink {
    /// A sink for the operation with this id (0 when the caller does not route).
    pub fn new(operation_id: u64) -> Self {
        Sink { operation_id }
    }

    /// Writes a line at `level`. Callers must never pass a secret.
    pub fn log(&self, level: Level, message: &str) {
        // Clone the receiver out so a slow receiver never holds the lock.
        let receiver = LOG.read().ok().and_then(|slot| slot.clone());
        if let Some(receiver) = receiver {
            receiver(self.operation_id, level, message);
        }
    }

    /// Writes a verbose line.
    pub fn verbose(&self, message: &str) {
        self.log(Level::Verbose, message);
    }

    /// Writes a debug line.
    pub fn debug(&self, message: &str) {
        self.log(Level::Debug, message);
    }

    /// Reports progress.
    pub fn progress(&self, progress: &Progress) {
        let receiver = PROGRESS.read().ok().and_then(|slot| slot.clone());
        if let Some(receiver) = receiver {
            receiver(self.operation_id, progress);
        }
    }
}
