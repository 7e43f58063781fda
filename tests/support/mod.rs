//! Helpers shared by the test modules.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The seed example fixture of DOMAIN.md §1.
pub fn seed_fixture() -> PathBuf {
    repo_root().join("mocks/fixtures/seed-example.json")
}

/// A fresh empty directory under the target dir, unique per test name.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Runs the real `pslwarden` binary in `cwd` with `args`, no inherited config.
pub fn pslwarden(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pslwarden"))
        .args(args)
        .current_dir(cwd)
        .env_remove("PSLWARDEN_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run pslwarden")
}

/// stdout and stderr of a finished command, for assertion messages.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
