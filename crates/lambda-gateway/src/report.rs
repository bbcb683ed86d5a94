//! Our WARN and ERROR records: through `tracing` when the application has installed a
//! subscriber, else printed to stderr as one line (which CloudWatch keeps) — so a failure is never
//! silent, even in a function that installs no subscriber to start faster. `lambda_runtime` does
//! the same for its own records.

/// `warn_or_print!("fallback {}", arg; tracing fields..., "message")`.
macro_rules! warn_or_print {
    ($fallback:literal $(, $arg:expr)* ; $($tracing:tt)+) => {
        if ::tracing::dispatcher::has_been_set() {
            ::tracing::warn!($($tracing)+);
        } else {
            ::std::eprintln!(concat!("WARN lambda_gateway: ", $fallback) $(, $arg)*);
        }
    };
}

/// `error_or_print!("fallback {}", arg; tracing fields..., "message")`.
macro_rules! error_or_print {
    ($fallback:literal $(, $arg:expr)* ; $($tracing:tt)+) => {
        if ::tracing::dispatcher::has_been_set() {
            ::tracing::error!($($tracing)+);
        } else {
            ::std::eprintln!(concat!("ERROR lambda_gateway: ", $fallback) $(, $arg)*);
        }
    };
}
