//! What `run` returns when it cannot start or stops: an error whose `Debug` form is its message.

use std::fmt;

use lambda_gateway_core::BoxError;

/// Why [`run`](crate::run) could not start or stopped serving: an environment variable that is
/// missing or malformed, an unknown `LAMBDA_GATEWAY_SOURCE`, a port already in use, a Runtime
/// API that cannot be reached...
///
/// `run` returns it boxed, as a [`BoxError`]. Its `Debug` form is its message, so a
/// `main` that returns the error (`async fn main() -> Result<(), BoxError>`) prints
/// `Error: unknown local source "bogus"; expected one of ...` rather than a struct dump. Its
/// [`source`](std::error::Error::source) is the cause of the error it stands for (not that error
/// itself, whose text is already the message).
pub struct RunError {
    message: String,
    inner: Option<BoxError>,
}

impl RunError {
    /// `error` as a `RunError` (itself when it already is one).
    pub(crate) fn wrap(error: BoxError) -> BoxError {
        if error.is::<Self>() {
            return error;
        }
        Box::new(Self {
            message: error.to_string(),
            inner: Some(error),
        })
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.as_deref()?.source()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_the_message_as_a_returning_main_shows_it() {
        let inner: BoxError = "PORT is \"x\"; expected a port number from 0 to 65535".into();
        let error = RunError::wrap(inner);
        assert_eq!(
            format!("{error:?}"),
            "PORT is \"x\"; expected a port number from 0 to 65535"
        );
        assert!(error.source().is_none(), "a string has no cause");
        // a cause is kept, once; wrapping twice keeps one layer
        let io = std::io::Error::other("address in use");
        let cause: BoxError = Box::new(WithCause(io));
        let error = RunError::wrap(RunError::wrap(cause));
        assert_eq!(format!("{error:?}"), "cannot listen");
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("address in use")
        );
    }

    #[derive(Debug)]
    struct WithCause(std::io::Error);

    impl fmt::Display for WithCause {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot listen")
        }
    }

    impl std::error::Error for WithCause {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
