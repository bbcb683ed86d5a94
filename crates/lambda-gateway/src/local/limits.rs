//! The local server's connection limits: how long a request's headers may take, how long an idle
//! keep-alive connection is kept, and how many connections are open at once.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::Notify,
    time::Instant,
};

/// The local server's connection limits, set with
/// [`Gateway::local_limits`](crate::Gateway::local_limits).
///
/// The defaults are far from anything a browser, curl or a test client does, and close enough
/// that a client holding connections open without using them cannot exhaust the machine:
///
/// | Limit | Default | When it is hit |
/// |---|---|---|
/// | [`header_read_timeout`](Self::header_read_timeout) | 10 s | a request's head (request line and headers) is not complete this long after its first byte arrived: the connection is closed |
/// | [`idle_timeout`](Self::idle_timeout) | 30 s | a connection sends nothing for this long between requests (counted from its last response, or from its opening) or in the middle of a request body: the connection is closed |
/// | [`max_connections`](Self::max_connections) | 256 | this many connections are open: the next one waits in the listen backlog until one closes |
///
/// The first time each limit is hit it is logged as a warning (later hits at debug level). A
/// request whose body has arrived has no time limit here: the service's own time is its own (on
/// Lambda the function's timeout applies). `Duration::MAX` turns a timeout off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalLimits {
    /// How long a request's head may take from its first byte.
    pub header_read_timeout: Duration,
    /// How long a connection may send nothing between requests, or within a request body.
    pub idle_timeout: Duration,
    /// How many connections may be open at once (at least 1).
    pub max_connections: usize,
}

impl Default for LocalLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 256,
        }
    }
}

impl LocalLimits {
    /// Sets [`header_read_timeout`](Self::header_read_timeout).
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`max_connections`](Self::max_connections) (0 counts as 1).
    #[must_use]
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }
}

/// Which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hit {
    HeaderReadTimeout,
    IdleTimeout,
    MaxConnections,
}

/// Whether each limit has been logged yet: the first hit is a warning, later ones debug.
#[derive(Debug, Default)]
pub(crate) struct Hits([AtomicBool; 3]);

impl Hits {
    pub(crate) fn record(&self, hit: Hit, limits: &LocalLimits) {
        let (index, what) = match hit {
            Hit::HeaderReadTimeout => (
                0,
                format!(
                    "closed a connection whose request headers were not complete within {:?} (header_read_timeout)",
                    limits.header_read_timeout
                ),
            ),
            Hit::IdleTimeout => (
                1,
                format!(
                    "closed a connection that sent nothing for {:?} (idle_timeout)",
                    limits.idle_timeout
                ),
            ),
            Hit::MaxConnections => (
                2,
                format!(
                    "{} connections are open (max_connections); new ones wait until one closes",
                    limits.max_connections
                ),
            ),
        };
        if self.0[index].swap(true, Ordering::Relaxed) {
            tracing::debug!(target: "lambda_gateway::local", "{what}");
        } else {
            tracing::warn!(
                target: "lambda_gateway::local",
                "{what}; further hits of this limit are logged at debug level"
            );
        }
    }
}

/// Where a connection stands, for its deadlines.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Between requests since `Instant` (the last byte written, or the opening).
    Idle(Instant),
    /// A request's head has been arriving since `Instant`.
    ReadingHead(Instant),
    /// A request's body is being read; its last byte came at `Instant`.
    ReadingBody(Instant),
    /// A request is with the service.
    Serving,
}

/// A connection's phase, shared by its I/O, its service and its watchdog.
#[derive(Debug, Clone)]
pub(crate) struct Activity(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    phase: Mutex<Phase>,
    /// Wakes the watchdog when the phase changes (its deadline may now be earlier).
    changed: Notify,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Shared {
            phase: Mutex::new(Phase::Idle(Instant::now())),
            changed: Notify::new(),
        }))
    }

    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        let Ok(mut phase) = self.0.phase.lock() else {
            return;
        };
        let before = std::mem::discriminant(&*phase);
        *phase = change(*phase);
        if std::mem::discriminant(&*phase) != before {
            self.0.changed.notify_one();
        }
    }

    /// Completes when the phase changes.
    pub(crate) async fn changed(&self) {
        self.0.changed.notified().await;
    }

    /// A request's head is complete: its body is read next.
    pub(crate) fn head_read(&self) {
        self.update(|_| Phase::ReadingBody(Instant::now()));
    }

    /// A request's body is complete: the request is with the service.
    pub(crate) fn body_read(&self) {
        self.update(|_| Phase::Serving);
    }

    /// The service answered: the connection is idle from now (writing the answer keeps it so).
    pub(crate) fn answered(&self) {
        self.update(|_| Phase::Idle(Instant::now()));
    }

    fn bytes_read(&self) {
        self.update(|phase| match phase {
            Phase::Idle(_) => Phase::ReadingHead(Instant::now()),
            Phase::ReadingBody(_) => Phase::ReadingBody(Instant::now()),
            other => other,
        });
    }

    fn bytes_written(&self) {
        self.update(|phase| match phase {
            Phase::Idle(_) => Phase::Idle(Instant::now()),
            other => other,
        });
    }

    /// When the connection's current phase runs out, and which limit that is; `None` while a
    /// request is with the service (or when the limit is too far away to fall due).
    pub(crate) fn deadline(&self, limits: &LocalLimits) -> Option<(Instant, Hit)> {
        let phase = *self.0.phase.lock().ok()?;
        let (since, timeout, hit) = match phase {
            Phase::Idle(since) | Phase::ReadingBody(since) => {
                (since, limits.idle_timeout, Hit::IdleTimeout)
            }
            Phase::ReadingHead(since) => {
                (since, limits.header_read_timeout, Hit::HeaderReadTimeout)
            }
            Phase::Serving => return None,
        };
        Some((since.checked_add(timeout)?, hit))
    }
}

/// A connection's I/O, reporting bytes to its [`Activity`].
pub(crate) struct Watched<T> {
    io: T,
    activity: Activity,
}

impl<T> Watched<T> {
    pub(crate) fn new(io: T, activity: Activity) -> Self {
        Self { io, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_read();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_of_duration_max_is_no_deadline_not_an_overflow() {
        let limits = LocalLimits::default()
            .idle_timeout(Duration::MAX)
            .header_read_timeout(Duration::MAX);
        let activity = Activity::new();
        assert_eq!(activity.deadline(&limits), None);
        activity.bytes_read();
        assert_eq!(activity.deadline(&limits), None);
        let deadline = activity.deadline(&LocalLimits::default());
        assert!(matches!(deadline, Some((_, Hit::HeaderReadTimeout))));
    }

    #[test]
    fn a_request_body_is_timed_by_its_last_byte_and_the_service_not_at_all() {
        let limits = LocalLimits::default();
        let activity = Activity::new();
        activity.bytes_read();
        activity.head_read();
        assert!(matches!(
            activity.deadline(&limits),
            Some((_, Hit::IdleTimeout))
        ));
        activity.body_read();
        assert_eq!(activity.deadline(&limits), None);
        activity.answered();
        assert!(matches!(
            activity.deadline(&limits),
            Some((_, Hit::IdleTimeout))
        ));
    }
}
