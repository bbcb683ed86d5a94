//! Our WARN and ERROR records: through `tracing` when the application has installed a
//! subscriber, else printed to stderr as one line (which CloudWatch keeps) — so a failure is never
//! silent, even in a function that installs no subscriber to start faster. `lambda_runtime` does
//! the same for its own records.
//!
//! Whether a subscriber is installed is `tracing::dispatcher::has_been_set`, as `lambda_runtime`
//! reads it: a hidden function of `tracing-core` (outside its semver promise), true once any
//! global or scoped dispatcher has been set.

/// One line on stderr: `LEVEL lambda_gateway: message`, line breaks in the message escaped (a
/// panic message or an error chain may hold some) so that CloudWatch keeps it as one record.
pub(crate) fn print(level: &str, message: &str) {
    eprintln!("{level} lambda_gateway: {}", message.replace('\n', "\\n"));
}

/// `warn_or_print!("fallback {}", arg; tracing fields..., "message")`.
macro_rules! warn_or_print {
    ($fallback:literal $(, $arg:expr)* ; $($tracing:tt)+) => {
        if ::tracing::dispatcher::has_been_set() {
            ::tracing::warn!($($tracing)+);
        } else {
            $crate::report::print("WARN", &format!($fallback $(, $arg)*));
        }
    };
}

/// `error_or_print!("fallback {}", arg; tracing fields..., "message")`.
macro_rules! error_or_print {
    ($fallback:literal $(, $arg:expr)* ; $($tracing:tt)+) => {
        if ::tracing::dispatcher::has_been_set() {
            ::tracing::error!($($tracing)+);
        } else {
            $crate::report::print("ERROR", &format!($fallback $(, $arg)*));
        }
    };
}

/// The most of a payload the debug log shows (see `Gateway::debug_log`).
pub(crate) const DEBUG_LOG_LIMIT: usize = 64 * 1024;

/// The debug log's record of a raw event or response event: at INFO through `tracing`, else on
/// stderr; the first [`DEBUG_LOG_LIMIT`] bytes, as text.
pub(crate) fn debug_payload(what: &str, payload: &[u8]) {
    let shown = payload.get(..DEBUG_LOG_LIMIT).unwrap_or(payload);
    let text = String::from_utf8_lossy(shown);
    let more = payload.len() - shown.len();
    if ::tracing::dispatcher::has_been_set() {
        ::tracing::info!(payload = %text, bytes = payload.len(), cut = more, "{what}");
    } else if more > 0 {
        print("INFO", &format!("{what}: {text} ... ({more} bytes more)"));
    } else {
        print("INFO", &format!("{what}: {text}"));
    }
}
