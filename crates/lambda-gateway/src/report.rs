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
