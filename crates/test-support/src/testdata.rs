//! The event files of `testdata/`, as the test suites walk them.

use std::{
    fs,
    path::{Path, PathBuf},
};

/// The workspace's `testdata/` directory.
#[must_use]
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// The event files of a directory, sorted: `<case>.json`, not its `.expected.json` or
/// `.reply.json` companions.
///
/// # Panics
///
/// When the directory cannot be read (a test's setup is broken).
#[must_use]
#[allow(
    clippy::panic,
    reason = "a test helper: an unreadable testdata/ is a broken setup"
)]
pub fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
                .path()
        })
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".json")
                && !name.ends_with(".expected.json")
                && !name.ends_with(".reply.json")
        })
        .collect();
    files.sort();
    files
}

/// The event files of `testdata/<source>/` (see [`event_files`]).
#[must_use]
pub fn source_events(source: &str) -> Vec<PathBuf> {
    event_files(&root().join(source))
}

/// Every event of `testdata/`: each directory's [`event_files`], as `(directory, file)`, in
/// order of directory then file.
///
/// # Panics
///
/// When `testdata/` cannot be read (a test's setup is broken).
#[must_use]
#[allow(
    clippy::panic,
    reason = "a test helper: an unreadable testdata/ is a broken setup"
)]
pub fn all_events() -> Vec<(String, PathBuf)> {
    let root = root();
    let mut dirs: Vec<String> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_dir())
        .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
        .collect();
    dirs.sort();
    dirs.into_iter()
        .flat_map(|dir| {
            event_files(&root.join(&dir))
                .into_iter()
                .map(move |file| (dir.clone(), file))
        })
        .collect()
}
