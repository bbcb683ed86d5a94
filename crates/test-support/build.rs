//! Generates `golden_tests!`: one test per event file of the golden directories under
//! `testdata/`, so a failure names its file and does not hide the others.

use std::{env, fmt::Write as _, fs, path::Path};

/// The directories not walked: passed-through events have a test of their own
/// (`tests/pass_through.rs`), and the events of sources not served yet (written ahead, their
/// research notes beside them) wait for their source. Every other directory of `testdata/` is a
/// source's accepted events (named like the source) or `invalid`, the rejected ones.
const NOT_GOLDEN: [&str; 1] = ["pass_through"];

fn main() {
    let testdata =
        Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../testdata");
    let mut cases = String::new();
    let mut listing = String::new();
    // a directory added or removed: generate again
    println!("cargo::rerun-if-changed={}", testdata.display());
    let mut directories: Vec<String> = fs::read_dir(&testdata)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !NOT_GOLDEN.contains(&name.as_str()))
                .collect()
        })
        .unwrap_or_default();
    directories.sort();
    for dir in &directories {
        let path = testdata.join(dir);
        // a file added or removed changes the directory: generate again
        println!("cargo::rerun-if-changed={}", path.display());
        let mut events: Vec<String> = fs::read_dir(&path)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| {
                        name.ends_with(".json")
                            && !name.ends_with(".expected.json")
                            && !name.ends_with(".reply.json")
                    })
                    .collect()
            })
            .unwrap_or_default();
        events.sort();
        let _ = writeln!(cases, "        pub(crate) mod {dir} {{");
        for file in &events {
            let test: String = file
                .trim_end_matches(".json")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            let _ = writeln!(
                cases,
                "            #[tokio::test]\n            async fn {test}() {{ $check({dir:?}, {file:?}).await }}"
            );
            let _ = writeln!(listing, "    ({dir:?}, {file:?}),");
        }
        let _ = writeln!(cases, "        }}");
    }
    let generated = format!(
        "/// Every golden event file, `(directory, file name)`, as found when this crate was built.\n\
         pub const GOLDEN_EVENTS: &[(&str, &str)] = &[\n{listing}];\n\n\
         /// One `#[tokio::test]` per golden event file, in a module per directory, each calling\n\
         /// `$check(directory, file_name).await`.\n\
         #[macro_export]\n\
         macro_rules! golden_tests {{\n    ($check:path) => {{\n{cases}    }};\n}}\n"
    );
    let out = Path::new(&env::var("OUT_DIR").unwrap_or_default()).join("golden.rs");
    if let Err(error) = fs::write(&out, generated) {
        println!("cargo::error=cannot write {}: {error}", out.display());
    }
}
