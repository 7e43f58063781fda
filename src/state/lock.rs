//! The per-org lock file: one run at a time may change an org.
//!
//! Must not: touch the state store's database or wait for a lock: a busy org is refused at
//! once, with the lock file's path in the message.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::StateError;

/// Held for the whole of a run that may change an org; a second run on the same org fails to
/// take it. An OS file lock: released by the OS when the process ends, however it ends, so a
/// crash never leaves an org locked.
#[derive(Debug)]
pub struct OrgLock {
    /// Holding the open, locked file is what holds the lock.
    _file: File,
    /// The lock file, for messages.
    pub path: PathBuf,
}

impl OrgLock {
    /// The lock file of `org` beside the state store: `<store>.<org>.lock`.
    pub fn path_for(state_path: &Path, org: &str) -> PathBuf {
        let mut name = state_path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "pslwarden".into());
        name.push(format!(".{org}.lock"));
        state_path.with_file_name(name)
    }

    /// Takes the lock or says who holds it.
    pub fn acquire(state_path: &Path, org: &str) -> Result<OrgLock, StateError> {
        let path = Self::path_for(state_path, org);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_fs::create_dir_all(dir).map_err(|source| StateError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // Empty, but its name says which orgs this machine manages: private like the store.
        let file = crate::private_fs::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StateError::LockFile {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(OrgLock { _file: file, path }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StateError::OrgBusy {
                org: org.to_string(),
                path,
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(StateError::LockFile { path, source }),
        }
    }
}
