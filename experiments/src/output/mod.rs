//! Where results are written, and the one rule every writer follows: **never delete, move or
//! overwrite anything the toolkit did not write itself.**
//!
//! A results folder is recognisable by its manifest, [`MANIFEST`]: a small JSON file naming the
//! tool and every file the run wrote. A run's folder is swapped in (atomically, see
//! [`write_folder`]) only where there is nothing, an empty folder, or a folder of ours that holds
//! nothing but what its manifest lists; anything else (a folder with other files, a regular file,
//! a symbolic link, a device, a socket, `.`, `..`, `/`, the working folder or one above it) is
//! refused before any work, with one line naming the path and what to do instead. After the
//! swap, the old folder's files are removed one by one by the names its manifest lists, never by
//! a recursive delete, so a file that appeared in the meantime survives.
//!
//! Single files (`report`'s `index.html`, `predict --out`) replace only a regular file that the
//! same writer recognises as its own ([`replace_file`]); temporary files are created exclusively,
//! never over an existing name.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

mod write;

pub use write::*;

/// The manifest of a results folder.
pub const MANIFEST: &str = ".cg-results.json";

/// What the manifest says of its writer.
pub(super) const WRITTEN_BY: &str = "cg experiments";

/// A results folder's manifest: who wrote it, and the files it wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The program and version that wrote the folder.
    pub written_by: String,
    /// Whether the run reached its end (false for a run stopped early with a checkpoint).
    pub complete: bool,
    /// Plain file names, sorted.
    pub files: Vec<String>,
}

impl Manifest {
    fn new(names: impl IntoIterator<Item = String>, complete: bool) -> Manifest {
        let mut files: Vec<String> = names.into_iter().collect();
        files.sort();
        files.dedup();
        Manifest { written_by: WRITTEN_BY.into(), complete, files }
    }

    /// The manifest of `dir`, if it has one that parses and names only plain files.
    pub fn read(dir: &Path) -> Option<Manifest> {
        let bytes = std::fs::read(dir.join(MANIFEST)).ok()?;
        let m: Manifest = serde_json::from_slice(&bytes).ok()?;
        (m.written_by == WRITTEN_BY && m.files.iter().all(|f| plain_name(f))).then_some(m)
    }
}

/// A name without separators that stays inside its folder.
pub(super) fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// What is at a results folder's path now.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// Nothing: the folder will be created.
    Absent,
    /// An empty folder.
    Empty,
    /// A folder an earlier run wrote (its manifest lists every file in it).
    Ours(Manifest),
}

/// What kind of thing a non-folder path is, for messages.
pub(super) fn describe(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_fifo() {
            return "a named pipe";
        }
    }
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_file() {
        "a file"
    } else {
        "something other than a file or folder"
    }
}

/// Refuses `.`, `..`, `/` and the working folder or any folder above it: a results folder is
/// swapped by renaming, and these cannot be (or must not be) replaced.
pub(crate) fn refuse_special(dir: &Path) -> Result<()> {
    let special = match dir.components().next_back() {
        None => true,
        Some(Component::CurDir | Component::ParentDir | Component::RootDir | Component::Prefix(_)) => true,
        Some(Component::Normal(_)) => false,
    };
    let above_cwd = || -> bool {
        let (Ok(cwd), Ok(here)) = (std::env::current_dir(), dir.canonicalize()) else { return false };
        cwd.starts_with(&here)
    };
    if special || above_cwd() {
        bail!(
            "{}: the working folder, one above it, or the file system's root cannot be a results folder: give a new folder's name (--out DIR)",
            dir.display()
        );
    }
    Ok(())
}

/// Checks that a run may write its results folder at `dir` (see the module doc), before any work.
///
/// # Errors
/// A path that is not absent, empty or ours, as one line naming it and what to do instead.
pub fn check_folder(dir: &Path) -> Result<Target> {
    refuse_special(dir)?;
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::Absent),
        Err(e) => bail!("{}: cannot be read ({e})", dir.display()),
    };
    if !meta.is_dir() {
        bail!(
            "{} is {}, not a results folder: give a new or empty folder (nothing there is touched)",
            dir.display(),
            describe(&meta)
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot be read", dir.display()))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("{}: cannot be read", dir.display()))?;
    if names.is_empty() {
        return Ok(Target::Empty);
    }
    names.sort();
    let Some(manifest) = Manifest::read(dir) else {
        bail!(
            "{} holds files that no run wrote ({}): results go to a new or empty folder, or to one an earlier run wrote (it has {MANIFEST}); choose another --out",
            dir.display(),
            list(&names)
        );
    };
    let foreign: Vec<String> = names
        .into_iter()
        .filter(|n| n != MANIFEST)
        .filter(|n| {
            !manifest.files.contains(n)
                || !std::fs::symlink_metadata(dir.join(n)).is_ok_and(|m| m.file_type().is_file())
        })
        .collect();
    if !foreign.is_empty() {
        bail!(
            "{} is an earlier run's folder, but {} no run wrote: move {} out first, or choose another --out",
            dir.display(),
            if foreign.len() == 1 {
                format!("{} is a file", foreign[0])
            } else {
                format!("{} are files", list(&foreign))
            },
            if foreign.len() == 1 { "it" } else { "them" }
        );
    }
    Ok(Target::Ours(manifest))
}

/// At most five names, then how many more.
pub(super) fn list(names: &[String]) -> String {
    let mut text = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > 5 {
        text += &format!(" and {} more", names.len() - 5);
    }
    text
}

/// The folder `dir` is in (`.` for a bare name).
pub(super) fn parent_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A fresh hidden sibling name for `path`'s temporary copies.
pub(super) fn temp_name(path: &Path, what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    parent_of(path).join(format!(".{name}.{what}-{}-{n}", std::process::id()))
}
