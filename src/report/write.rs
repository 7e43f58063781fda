//! The report folder: `<base>/<org>/<UTC timestamp>/` with the six files of one run.
//!
//! Owns: the folder's name and layout ([`ReportPaths`]), and writing each file so that it is
//! either complete or absent: written under a temporary name in the folder, flushed to disk, then
//! renamed (a rename within one folder is atomic), so a crash never leaves a half-written file.
//! Must not: overwrite anything. A run whose folder name is taken (two runs in one second) gets
//! `<timestamp>-2`, `-3`, ...; the folder is created with a call that fails when it exists, so
//! two processes cannot share one.
//! The only part of `report` that touches the file system. Folders it creates are `0700` and
//! files `0600` whatever the umask ([`crate::private_fs`]): they name the org's users.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{ScanReport, csv, html, json, markdown};
use crate::snapshot::OrgSnapshot;

/// How many folders one second of one org may get before pslwarden gives up: far more than a
/// scheduler runs, few enough to stop a loop gone wrong.
const MAX_RUNS_PER_SECOND: u32 = 1000;

/// Where one run's report files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPaths {
    /// The run's folder, `<base>/<org>/<timestamp>[-n]`.
    pub dir: PathBuf,
    /// `report.html`: what the terminal points the admin to.
    pub html: PathBuf,
    /// `report.json`: the versioned schema, for machines.
    pub json: PathBuf,
    /// `report.md`: for chat and email.
    pub markdown: PathBuf,
    /// `report.csv`: for spreadsheets.
    pub csv: PathBuf,
    /// `snapshot.json`: the data the run judged, replayable with `scan --snapshot`.
    pub snapshot: PathBuf,
    /// `plan.json`: the plan in the `--plan-out` format.
    pub plan: PathBuf,
}

impl ReportPaths {
    /// The file names inside a run folder.
    fn in_dir(dir: PathBuf) -> Self {
        ReportPaths {
            html: dir.join("report.html"),
            json: dir.join("report.json"),
            markdown: dir.join("report.md"),
            csv: dir.join("report.csv"),
            snapshot: dir.join("snapshot.json"),
            plan: dir.join("plan.json"),
            dir,
        }
    }
}

/// The report folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The run's start time does not parse, so it cannot name the folder.
    #[error(
        "the run's start time `{value}` is not an RFC 3339 time, so it cannot name the report \
         folder; this is a pslwarden bug, please report it"
    )]
    BadTimestamp { value: String },
    /// The org name would not be one folder name (the config allows letters, digits, - and _).
    #[error(
        "org name `{name}` cannot name a report folder: use letters, digits, - and _ only in the \
         org's `name` in the config"
    )]
    BadOrgName { name: String },
    /// A folder could not be created.
    #[error(
        "cannot create the report folder {path}: {source}. Check that the user running pslwarden \
         may write there and that the disk has space, or set `reports_dir` in the [defaults] \
         config to a folder it can write"
    )]
    CreateDir { path: PathBuf, source: io::Error },
    /// Every folder name for this second is taken.
    #[error(
        "{path} and its {MAX_RUNS_PER_SECOND} numbered variants already exist: remove old report \
         folders there, or set `reports_dir` in the [defaults] config to another folder"
    )]
    NoFreeFolder { path: PathBuf },
    /// A file could not be written; files already renamed into place are complete.
    #[error(
        "cannot write {path}: {source}. Check the disk's free space and that the user running \
         pslwarden may write to that folder; the report files already in it are complete"
    )]
    Write { path: PathBuf, source: io::Error },
}

/// Writes the run's six files into a new folder `base/<org>/<UTC timestamp>/` and returns their
/// paths. The timestamp is `report.run.started_at` in compact form (`20261123T031500Z`).
pub fn write_report_dir(
    base: &Path,
    org: &str,
    report: &ScanReport,
    snapshot: &OrgSnapshot,
) -> Result<ReportPaths, ReportError> {
    // The config already restricts names; checked again because a name with a separator or `..`
    // would write outside `base`.
    if org.is_empty()
        || !org
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ReportError::BadOrgName {
            name: org.to_string(),
        });
    }
    let stamp = folder_stamp(&report.run.started_at)?;
    let org_dir = base.join(org);
    crate::private_fs::create_dir_all(&org_dir).map_err(|source| ReportError::CreateDir {
        path: org_dir.clone(),
        source,
    })?;
    let paths = ReportPaths::in_dir(create_fresh_dir(&org_dir, &stamp)?);

    // The data first, then the renderings: a run cut short still leaves what it judged. Each
    // rendering is dropped once written, so a large org's report is in memory one file at a time.
    // Streamed, compact: a large org's snapshot is the biggest file and need not exist twice in
    // memory (as data and as text).
    write_atomically_with(&paths.snapshot, |w| {
        serde_json::to_writer(&mut *w, snapshot).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })?;
    write_atomically(&paths.plan, &report.plan.to_json_pretty())?;
    write_atomically(&paths.json, &json::render(report))?;
    write_atomically(&paths.csv, &csv::render(report))?;
    write_atomically(&paths.markdown, &markdown::render(report))?;
    write_atomically(&paths.html, &html::render(report))?;
    sync_dir(&paths.dir);
    Ok(paths)
}

/// Writes further files of a run (e.g. `apply.json`, `apply.md`) into `dir`, or, when `dir` is
/// `None`, into a new folder `base/<org>/<UTC timestamp of started_at>/`. Each file is complete or
/// absent. Returns the folder.
pub fn write_run_files(
    base: &Path,
    org: &str,
    started_at: &str,
    dir: Option<&Path>,
    files: &[(&str, &str)],
) -> Result<PathBuf, ReportError> {
    let dir = match dir {
        Some(dir) => dir.to_path_buf(),
        None => {
            if org.is_empty()
                || !org
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(ReportError::BadOrgName {
                    name: org.to_string(),
                });
            }
            let org_dir = base.join(org);
            crate::private_fs::create_dir_all(&org_dir).map_err(|source| {
                ReportError::CreateDir {
                    path: org_dir.clone(),
                    source,
                }
            })?;
            create_fresh_dir(&org_dir, &folder_stamp(started_at)?)?
        }
    };
    for (name, contents) in files {
        write_atomically(&dir.join(name), contents)?;
    }
    sync_dir(&dir);
    Ok(dir)
}

/// `2026-11-23T03:15:00Z` (or any RFC 3339 time) as `20261123T031500Z`, in UTC: sortable, and
/// valid in a file name on every system (no `:`).
fn folder_stamp(started_at: &str) -> Result<String, ReportError> {
    let time = DateTime::parse_from_rfc3339(started_at).map_err(|_| ReportError::BadTimestamp {
        value: started_at.to_string(),
    })?;
    Ok(time
        .with_timezone(&Utc)
        .format("%Y%m%dT%H%M%SZ")
        .to_string())
}

/// Creates `parent/stamp`, or the first free `parent/stamp-n`, and returns it.
fn create_fresh_dir(parent: &Path, stamp: &str) -> Result<PathBuf, ReportError> {
    for attempt in 1..=MAX_RUNS_PER_SECOND {
        let name = if attempt == 1 {
            stamp.to_string()
        } else {
            format!("{stamp}-{attempt}")
        };
        let path = parent.join(name);
        // `create_dir` fails when the folder exists: checking first and creating after could
        // hand one folder to two runs.
        match crate::private_fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(ReportError::CreateDir { path, source }),
        }
    }
    Err(ReportError::NoFreeFolder {
        path: parent.join(stamp),
    })
}

/// Writes `contents` to `path` through a temporary file in the same folder, so `path` is either
/// absent or complete.
fn write_atomically(path: &Path, contents: &str) -> Result<(), ReportError> {
    write_atomically_with(path, |w| w.write_all(contents.as_bytes()))
}

/// As [`write_atomically`], with the contents written by `fill` into a buffered writer.
fn write_atomically_with(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<fs::File>) -> io::Result<()>,
) -> Result<(), ReportError> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.tmp"));
    let written = (|| {
        let mut writer = io::BufWriter::new(crate::private_fs::create_new(&temp)?);
        fill(&mut writer)?;
        let file = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        // On disk before the rename, or a crash could leave the final name on an empty file.
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    written.map_err(|source| {
        // Best effort: the error to report is the write's, not the clean-up's.
        let _ = fs::remove_file(&temp);
        ReportError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Makes the renames durable. Best effort: some file systems refuse to sync a folder, and the
/// files themselves are already on disk.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::report::json::fixture;

    /// A fresh, empty folder for one test (tests run in parallel in one process).
    fn scratch(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pslwarden-report-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch folder");
        dir
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("folder lists")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    fn empty() -> OrgSnapshot {
        OrgSnapshot::new("00D000000000001AAA", "Org", "2026-11-23T03:15:00Z", "65.0")
    }

    #[test]
    fn it_writes_the_six_files_and_nothing_else() {
        let base = scratch("six");
        let report = fixture::report();
        let snapshot = crate::rules::testkit::seed();
        let paths = write_report_dir(&base, "seed", &report, &snapshot).expect("written");
        assert_eq!(paths.dir, base.join("seed").join("20261123T031500Z"));
        assert_eq!(
            names_in(&paths.dir),
            [
                "plan.json",
                "report.csv",
                "report.html",
                "report.json",
                "report.md",
                "snapshot.json"
            ]
        );
        let read = |path: &Path| fs::read_to_string(path).expect("file reads");
        assert_eq!(read(&paths.json), json::render(&report));
        assert_eq!(read(&paths.html), html::render(&report));
        assert_eq!(
            OrgSnapshot::from_json(&read(&paths.snapshot)).expect("snapshot reads back"),
            snapshot
        );
        assert_eq!(
            Plan::from_json(&read(&paths.plan)).expect("plan reads back"),
            report.plan
        );
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn a_second_run_in_the_same_second_gets_its_own_folder() {
        let base = scratch("again");
        let report = fixture::report();
        let first = write_report_dir(&base, "seed", &report, &empty()).expect("first");
        fs::write(&first.json, "kept").expect("mark the first report");
        let second = write_report_dir(&base, "seed", &report, &empty()).expect("second");
        let third = write_report_dir(&base, "seed", &report, &empty()).expect("third");
        let org_dir = base.join("seed");
        assert_eq!(second.dir, org_dir.join("20261123T031500Z-2"));
        assert_eq!(third.dir, org_dir.join("20261123T031500Z-3"));
        assert_eq!(
            fs::read_to_string(&first.json).expect("first report"),
            "kept"
        );
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn the_folder_is_named_in_utc() {
        assert_eq!(
            folder_stamp("2026-11-23T04:15:00.123+01:00").expect("parses"),
            "20261123T031500Z"
        );
        assert!(matches!(
            folder_stamp("yesterday"),
            Err(ReportError::BadTimestamp { .. })
        ));
    }

    #[test]
    fn an_org_name_cannot_leave_the_base_folder() {
        let base = scratch("escape");
        let error = write_report_dir(&base, "../elsewhere", &fixture::report(), &empty())
            .expect_err("refused");
        assert!(matches!(error, ReportError::BadOrgName { .. }), "{error}");
        assert_eq!(names_in(&base), Vec::<String>::new());
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn an_unwritable_place_names_the_folder_and_what_to_do() {
        let base = scratch("blocked");
        // A file where the org's folder should be: fails for any user, root included.
        fs::write(base.join("seed"), "not a folder").expect("blocker");
        let error = write_report_dir(&base, "seed", &fixture::report(), &empty())
            .expect_err("cannot write");
        let message = error.to_string();
        assert!(matches!(error, ReportError::CreateDir { .. }), "{message}");
        assert!(
            message.contains(&base.join("seed").display().to_string()),
            "{message}"
        );
        assert!(message.contains("reports_dir"), "{message}");
        let _ = fs::remove_dir_all(&base);
    }
}
