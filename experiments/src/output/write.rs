//! Writing by that rule: a folder swapped in whole, a single file replaced only over its own
//! kind, every write through an exclusively created temporary file and a rename.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Component, Path};

use anyhow::{anyhow, bail, Context, Result};

use super::*;

/// Writes `files` (plain names) as the whole content of the folder `dir`, with a manifest:
/// rendered into a new hidden sibling folder, then swapped in by one rename (an atomic exchange
/// on Linux), so that a reader, or a run killed at any moment, sees the old complete set or the
/// new complete set, never a mix. The old folder's files go by their manifest's names.
/// Folders and files get the umask's modes.
///
/// # Errors
/// The target is refused by [`check_folder`], or cannot be written; the old results are then
/// untouched.
pub fn write_folder(files: &[(String, Vec<u8>)], complete: bool, dir: &Path) -> Result<()> {
    if let Some((bad, _)) = files.iter().find(|(n, _)| !plain_name(n) || n == MANIFEST) {
        bail!("internal: a run's file is named {bad:?}");
    }
    check_folder(dir)?;
    let parent = parent_of(dir);
    std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = temp_name(dir, "new");
    std::fs::create_dir(&staging).with_context(|| format!("cannot write in {}", parent.display()))?;
    let manifest = Manifest::new(files.iter().map(|f| f.0.clone()), complete);
    let manifest_bytes = serde_json::to_string_pretty(&manifest)? + "\n";
    let written = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .chain([(MANIFEST, manifest_bytes.as_bytes())])
        .try_for_each(|(file, bytes)| {
            std::fs::write(staging.join(file), bytes)
                .with_context(|| format!("cannot write {}", dir.join(file).display()))
        });
    // Checked again just before the swap: the path may have changed while the run worked.
    let swapped = written.and_then(|()| check_folder(dir)).and_then(|target| swap_in(&staging, dir).map(|()| target));
    match swapped {
        // The staging folder now holds the old folder's files (or nothing).
        Ok(old) => {
            remove_ours(&staging, old.into_manifest().as_ref());
            Ok(())
        }
        Err(e) => {
            remove_ours(&staging, Some(&manifest));
            Err(e)
        }
    }
}

impl Target {
    fn into_manifest(self) -> Option<Manifest> {
        match self {
            Target::Ours(m) => Some(m),
            Target::Absent | Target::Empty => None,
        }
    }
}

/// Removes the files `manifest` lists (and the manifest) from `dir`, then `dir` if it is empty;
/// anything else in it stays, with a warning.
pub(super) fn remove_ours(dir: &Path, manifest: Option<&Manifest>) {
    for f in manifest.iter().flat_map(|m| m.files.iter().map(String::as_str).chain([MANIFEST])) {
        let path = dir.join(f);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            let _ = std::fs::remove_file(path);
        }
    }
    if std::fs::remove_dir(dir).is_err() && dir.exists() {
        eprintln!("warning: {} holds files no run wrote; left as it is", dir.display());
    }
}

/// Puts the folder `new` at `dir`; afterwards `new` holds the old contents (if any).
pub(super) fn swap_in(new: &Path, dir: &Path) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        return std::fs::rename(new, dir).with_context(|| format!("cannot write {}", dir.display()));
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        if renameat_with(CWD, new, CWD, dir, RenameFlags::EXCHANGE).is_ok() {
            return Ok(());
        }
    }
    // Elsewhere (or on a file system without the exchange): two renames.
    let old = temp_name(dir, "old");
    std::fs::rename(dir, &old).with_context(|| format!("cannot replace {}", dir.display()))?;
    std::fs::rename(new, dir).with_context(|| format!("cannot write {}", dir.display()))?;
    std::fs::rename(&old, new).with_context(|| format!("cannot clean up {}", old.display()))
}

/// Checks, before any work, that a file may be written at `path`: nothing there, or a regular
/// file (whose content the writer then judges). Returns whether a file exists.
///
/// # Errors
/// Not a file name, or a folder, link, device or socket at `path`.
pub fn check_file(path: &Path) -> Result<bool> {
    if path.file_name().is_none() || matches!(path.components().next_back(), Some(Component::CurDir)) {
        bail!("{}: not a file name", path.display());
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => {
            bail!("{} is {}: give a file's name (nothing there is touched)", path.display(), describe(&meta))
        }
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => bail!("{}: cannot be read ({e})", path.display()),
    }
}

/// Writes one file inside a folder the toolkit owns (a sweep's folder, a folder it created)
/// through a temporary sibling and a rename, so `path` is the old file or the whole new one,
/// never a part. A folder, link or device at `path` is refused.
///
/// # Errors
/// The path holds something other than a regular file, or the folder cannot be written.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    check_file(path)?;
    write_through_temp(path, bytes)
}

/// Writes the file `path` as [`write_file`] does, replacing an existing regular file only when
/// `ours` recognises its content as this writer's; otherwise refused with `hint` (what to do
/// instead).
///
/// # Errors
/// The path holds something else, or the folder cannot be written.
pub fn replace_file(path: &Path, bytes: &[u8], ours: impl Fn(&[u8]) -> bool, hint: &str) -> Result<()> {
    if check_file(path)? {
        let existing = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if !ours(&existing) {
            bail!("{} exists and was not written by this command: {hint}", path.display());
        }
    }
    write_through_temp(path, bytes)
}

/// Writes `bytes` to a fresh temporary sibling (created exclusively, never over an existing
/// name), then renames it to `path`.
pub(super) fn write_through_temp(path: &Path, bytes: &[u8]) -> Result<()> {
    let temp = temp_name(path, "new");
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let result = file
        .write_all(bytes)
        .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
        .and_then(|()| std::fs::rename(&temp, path).map_err(|e| anyhow!("cannot write {}: {e}", path.display())));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
