//! Files and folders that hold org data, created private to the user pslwarden runs as.
//!
//! Owns: the modes of what pslwarden creates that names an org's users and licenses — the state
//! store (and SQLite's `-wal` / `-shm` files beside it), the per-org lock files, report folders
//! and every file in them: folders `0700`, files `0600`, whatever the process's umask (a shared
//! server's default umask 022 would leave them readable by every local user).
//!
//! Must not: loosen or tighten anything pslwarden did not create (a `reports_dir` or state folder
//! the admin made keeps its mode), or touch file contents.

use std::fs;
use std::io;
use std::path::Path;

/// Mode of a folder pslwarden creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of a file pslwarden creates.
pub const FILE_MODE: u32 = 0o600;

/// `create_dir_all`, with every folder it creates `0700` (existing ones are left alone).
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(path)?;
    Ok(())
}

/// `create_dir` (fails when it exists), `0700`.
pub fn create_dir(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(path)?;
    // The umask can only remove bits, never add them, so 0700 needs no fix-up; a umask like 077
    // is already stricter than needed.
    Ok(())
}

/// Open options that create a file `0600` (the umask can only make it stricter).
pub fn options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options
}

/// A new file (fails when it exists), `0600`.
pub fn create_new(path: &Path) -> io::Result<fs::File> {
    options().write(true).create_new(true).open(path)
}

/// Sets an existing file to `0600`: for files another program created for pslwarden (SQLite's
/// database, made with its default mode) or a store an older version left readable.
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & !FILE_MODE != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(mode & FILE_MODE))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
