//! Report retention: keep the newest N run folders of each org, delete the older ones.
//!
//! Only folders named like a run (`20261123T031500Z`, `20261123T031500Z-2`) are ever deleted, so
//! a file an admin put beside them is left alone.

use std::io;
use std::path::Path;

/// Whether `name` is a run folder's name (`20261123T031500Z`, `20261123T031500Z-2`): what
/// retention may delete and what the status page may serve.
pub(crate) fn is_run_folder(name: &str) -> bool {
    let (stamp, suffix) = match name.split_once('-') {
        Some((stamp, n)) => (stamp, Some(n)),
        None => (name, None),
    };
    let b = stamp.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[9..15].iter().all(u8::is_ascii_digit)
        && suffix
            .is_none_or(|n| !n.is_empty() && n.len() <= 6 && n.bytes().all(|c| c.is_ascii_digit()))
}

/// Sort key: the stamp, then the numeric suffix (so `-10` sorts after `-9`).
fn order_key(name: &str) -> (String, u64) {
    match name.split_once('-') {
        Some((stamp, n)) => (stamp.to_string(), n.parse().unwrap_or(0)),
        None => (name.to_string(), 0),
    }
}

/// Deletes all but the newest `keep` run folders of `org` under `reports_dir`; `keep = 0`
/// keeps all. Returns how many were deleted.
pub fn prune_reports(reports_dir: &Path, org: &str, keep: usize) -> io::Result<usize> {
    if keep == 0 {
        return Ok(0);
    }
    let dir = reports_dir.join(org);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut runs: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() && is_run_folder(&name) {
            runs.push(name);
        }
    }
    runs.sort_by_key(|n| order_key(n));
    let excess = runs.len().saturating_sub(keep);
    for name in &runs[..excess] {
        std::fs::remove_dir_all(dir.join(name))?;
    }
    Ok(excess)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_oldest_run_folders_go() {
        let base = std::env::temp_dir().join(format!("pslwarden-retention-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let org = base.join("prod");
        for name in [
            "20261101T010000Z",
            "20261101T010000Z-2",
            "20261101T010000Z-10",
            "20261102T010000Z",
            "notes",
        ] {
            std::fs::create_dir_all(org.join(name)).unwrap();
        }
        std::fs::write(org.join("README.txt"), "mine").unwrap();
        assert_eq!(prune_reports(&base, "prod", 2).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(&org)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "20261101T010000Z-10",
                "20261102T010000Z",
                "README.txt",
                "notes"
            ]
        );
        assert_eq!(prune_reports(&base, "prod", 0).unwrap(), 0);
        assert_eq!(prune_reports(&base, "nobody", 3).unwrap(), 0);
    }
}
