//! `--event FILE`: replay one event offline and print the response event (shared by the examples).

use std::{future::Future, path::PathBuf};

/// The event file named by `--event FILE` on the command line, if any.
pub(crate) fn event_file() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--event" {
            return args.next().map(PathBuf::from);
        }
    }
    None
}

/// Reads the event, runs `invoke` on it and prints the response event; an error is printed as
/// its message (`Error: ...`) and the process exits with status 1.
pub(crate) async fn replay<F, Fut>(path: PathBuf, invoke: F) -> Result<(), lambda_gateway::BoxError>
where
    F: FnOnce(Vec<u8>) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, lambda_gateway::Error>>,
{
    let event = std::fs::read(&path)
        .map_err(|e| format!("cannot read event file {}: {e}", path.display()))?;
    match invoke(event).await {
        Ok(response) => {
            println!("{}", String::from_utf8_lossy(&response));
            Ok(())
        }
        Err(error) => {
            eprintln!("Error: {error}");
            std::process::exit(1);
        }
    }
}
