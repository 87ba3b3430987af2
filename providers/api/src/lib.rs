//! netdrift-provider-api: the one seam between netdrift and every source of firewall state.
//!
//! API boundary: a source (a provider crate) implements [`Source`]; the reconcile hands it a
//! [`CollectContext`] (the time, each scope's audit window start, what is already stored) and
//! gets back one [`SourceOutput`]: the scopes it collected (failed and partial ones included,
//! never dropped), the audit events and the windows they cover, the audit reads that failed,
//! and the problems of the source itself (discovery, credentials). [`run_scopes`] is the
//! shared per-scope runner: bounded concurrency, a per-scope timeout, and a task that panics
//! or times out becomes a failed scope with a problem, never a silent drop. This crate knows no
//! SDK, no SQLite and no report format.

pub mod config;
pub mod progress;
pub mod watch;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use netdrift_snapshots::{AuditEvent, AuditFailure, Collected, Problem, Provider, Resource, Scope};

/// A stop request shared by everything one collection started (the daemon's SIGTERM): scopes
/// not yet read come back as failed with code `cancelled`, never dropped and never as if they
/// had been read. Cloning shares the request; the default is never triggered.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(tokio_util::sync::CancellationToken);

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }
    /// Ask everything that watches this to stop.
    pub fn trigger(&self) {
        self.0.cancel();
    }
    pub fn is_triggered(&self) -> bool {
        self.0.is_cancelled()
    }
    /// Completes once a stop was asked for.
    pub async fn triggered(&self) {
        self.0.cancelled().await
    }
}

/// What the reconcile gives a source for one collection.
pub struct CollectContext<'a> {
    /// The end of every audit window and the snapshots' time.
    pub now: DateTime<Utc>,
    /// The start of a scope's audit window (by scope key): its latest stored snapshot.
    pub since: &'a (dyn Fn(&str) -> DateTime<Utc> + Sync),
    /// The resources netdrift already stored for a scope (by scope key), which a source may
    /// reuse instead of asking again (AWS: the `sgr-` ids of unchanged groups).
    pub known: &'a dyn Fn(&str) -> Vec<Resource>,
    /// Set when netdrift is stopping: the scopes not yet read fail as `cancelled`.
    pub shutdown: Shutdown,
    /// Whether an audit-log object (`s3://BUCKET/KEY`) was already read by an earlier
    /// collection: a source that reads log objects reads each once.
    pub processed: Arc<dyn Fn(&str) -> bool + Send + Sync>,
}

/// An audit-log object a source read (an S3 trail's delivered file): recorded so that it is
/// never read again, with the events it held or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditObject {
    /// `s3://BUCKET/KEY`, or `file:PROVIDER:sha256:HEX` for a configured local file's content.
    pub object: String,
    pub events: usize,
    pub error: Option<String>,
}

/// An audit-log span a source looked at, recorded even when it held no event (so that silence
/// can be told from missing logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditWindow {
    pub account: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Everything one collection of one source produced.
#[derive(Debug, Default)]
pub struct SourceOutput {
    /// One snapshot per scope, whatever its status.
    pub scopes: Vec<Collected>,
    /// Audit events, parsed by the provider's record parser.
    pub events: Vec<AuditEvent>,
    pub windows: Vec<AuditWindow>,
    /// Audit-log reads that failed, with the account and window they would have covered.
    pub audit_failures: Vec<AuditFailure>,
    /// Problems of the source itself, not tied to one scope (discovery, credentials).
    pub problems: Vec<Problem>,
    /// Whether each scope's changes are logged at all (AWS: CloudTrail's trails), for the
    /// scopes whose source checks it.
    pub logging: Vec<netdrift_snapshots::logging::LoggingCheck>,
    /// The audit-log objects read (stored after the events they held).
    pub objects: Vec<AuditObject>,
}

/// A source of firewall state: one configured `[[source]]`.
#[async_trait::async_trait(?Send)]
pub trait Source {
    fn provider(&self) -> Provider;
    /// The configured name (`[[source]] name`).
    fn name(&self) -> &str;
    /// What it collects, in one line (`netdrift config check`, the run's recorded settings).
    fn describe(&self) -> String;
    /// Collect every scope the source covers. Never fails as a whole: what could not be read is
    /// in the output (failed scopes, audit failures, source problems).
    async fn collect(&self, ctx: &CollectContext<'_>) -> SourceOutput;
    /// Whether this source collects `scope` (`netdrift revert --apply` makes its calls through
    /// the source that collects the item's scope).
    fn covers(&self, _scope: &netdrift_snapshots::Scope) -> bool {
        false
    }
    /// One watch tick: read each scope's audit log from `ctx.start` and re-read what the new
    /// changes touched (the `watch` module). `None`: this source cannot watch, and the nightly
    /// collection alone covers it.
    async fn watch(&self, _ctx: &watch::WatchContext<'_>) -> Option<watch::WatchOutput> {
        None
    }
    /// Make remediation calls in `scope`, in order, stopping at the first failure (the rest
    /// are reported as not made). A source that makes no changes fails each, saying so.
    async fn apply(&self, _scope: &netdrift_snapshots::Scope, calls: &[Call]) -> Vec<CallOutcome> {
        calls
            .iter()
            .map(|c| {
                CallOutcome::failed(
                    c,
                    format!(
                        "the {} source makes no changes: make the calls `netdrift revert` prints",
                        self.provider()
                    ),
                )
            })
            .collect()
    }
}

/// Run one task per scope, at most `concurrency` at a time, each within `timeout` when given.
/// A task that times out, panics or is cancelled yields `failed(scope, problem)`, and so does
/// every task still running or waiting when `shutdown` is triggered (code `cancelled`): every
/// scope handed in comes back, in the order given.
pub async fn run_scopes<T, F>(
    tasks: Vec<(Scope, F)>,
    concurrency: usize,
    timeout: Option<Duration>,
    shutdown: &Shutdown,
    failed: impl Fn(Scope, Problem) -> T,
) -> Vec<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    progress::report(progress::Step::Scopes(tasks.len()));
    let mut order = Vec::with_capacity(tasks.len());
    for (i, (scope, fut)) in tasks.into_iter().enumerate() {
        let sem = sem.clone();
        let key = scope.key();
        let stop = shutdown.clone();
        let handle = set.spawn(async move {
            let work = async move {
                let _permit = sem
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                match timeout {
                    Some(t) => tokio::time::timeout(t, fut)
                        .await
                        .map_err(|_| Stopped::Timeout(t)),
                    None => Ok(fut.await),
                }
            };
            tokio::select! {
                biased;
                _ = stop.triggered() => Err(Stopped::Shutdown),
                r = work => r,
            }
        });
        order.push((handle.id(), i, scope, key));
    }
    let mut results: Vec<Option<T>> = (0..order.len()).map(|_| None).collect();
    let mut pending: std::collections::HashMap<
        tokio::task::Id,
        (usize, Scope, netdrift_snapshots::ScopeKey),
    > = order
        .into_iter()
        .map(|(id, i, s, k)| (id, (i, s, k)))
        .collect();
    while let Some(joined) = set.join_next_with_id().await {
        let (id, outcome) = match joined {
            Ok((id, r)) => (id, Ok(r)),
            Err(e) => (e.id(), Err(e)),
        };
        let Some((i, scope, key)) = pending.remove(&id) else {
            continue;
        };
        progress::report(progress::Step::Done(key.as_str()));
        results[i] = Some(match outcome {
            Ok(Ok(v)) => v,
            Ok(Err(Stopped::Timeout(t))) => failed(
                scope,
                Problem {
                    code: netdrift_snapshots::ProblemCode::Timeout,
                    kind: None,
                    operation: None,
                    message: format!(
                        "collection of {key} did not finish within {} s",
                        t.as_secs()
                    ),
                },
            ),
            Ok(Err(Stopped::Shutdown)) => failed(
                scope,
                Problem {
                    code: netdrift_snapshots::ProblemCode::Cancelled,
                    kind: None,
                    operation: None,
                    message: format!(
                        "collection of {key} was stopped before it finished: netdrift is shutting down"
                    ),
                },
            ),
            Err(e) => failed(
                scope,
                Problem {
                    code: netdrift_snapshots::ProblemCode::Transient,
                    kind: None,
                    operation: None,
                    message: format!("the collection task of {key} ended abnormally: {e}"),
                },
            ),
        });
    }
    results.into_iter().flatten().collect()
}

/// Why a scope task ended without its result.
enum Stopped {
    Timeout(Duration),
    Shutdown,
}

/// The problem code of an HTTP status, the same for every provider and the webhook.
pub fn status_problem_code(status: u16) -> netdrift_snapshots::ProblemCode {
    netdrift_snapshots::ProblemCode::from_status(status)
}

/// Whether a problem with this code may go away on its own (worth another attempt).
pub fn is_retryable(code: netdrift_snapshots::ProblemCode) -> bool {
    code.is_retryable()
}

/// The longest wait a server's `Retry-After` can impose on one attempt.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// Exponential back-off between the attempts of one call: each wait is the server's
/// `Retry-After` when it gave one, else the current step, which doubles up to `cap`. The GCP
/// REST client and the webhook share it.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Backoff {
    pub fn new(first: Duration, cap: Duration) -> Backoff {
        Backoff { next: first, cap }
    }

    /// How long to wait before the next attempt.
    pub fn wait(&mut self, retry_after: Option<Duration>) -> Duration {
        let w = retry_after.unwrap_or(self.next);
        self.next = (self.next * 2).min(self.cap);
        w
    }
}

/// The wait a response's `Retry-After` header value asks for (capped at [`RETRY_AFTER_CAP`]).
pub fn retry_after_header(value: Option<&str>) -> Option<Duration> {
    retry_after(value?, Utc::now(), RETRY_AFTER_CAP)
}

/// A `Retry-After` header as a wait: delta-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2026 07:28:00 GMT`), capped at `cap`; `None` when it is neither.
pub fn retry_after(value: &str, now: DateTime<Utc>, cap: Duration) -> Option<Duration> {
    let v = value.trim();
    let wait = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
            (at - now).to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netdrift_snapshots::SnapshotStatus;

    #[test]
    fn backoff_doubles_to_its_cap_and_yields_to_retry_after() {
        let mut b = Backoff::new(Duration::from_millis(200), Duration::from_secs(1));
        let waits: Vec<u128> = [None, None, Some(Duration::from_secs(7)), None, None]
            .into_iter()
            .map(|r| b.wait(r).as_millis())
            .collect();
        assert_eq!(waits, [200, 400, 7000, 1000, 1000]);
        assert_eq!(retry_after_header(Some("120")), Some(RETRY_AFTER_CAP));
        assert_eq!(retry_after_header(Some("3")), Some(Duration::from_secs(3)));
        assert_eq!(retry_after_header(Some("soon")), None);
        assert_eq!(retry_after_header(None), None);
    }

    fn scope(n: u32) -> Scope {
        Scope::new(Provider::Aws, format!("{n:012}"), Some("us-east-1".into()))
    }

    /// A stop request: what finished is kept, what runs or waits comes back `cancelled`, at once.
    /// One thread, so the scopes take their slots in order: scope 0 is sure of one (two worker
    /// threads could give both slots to scopes that then sleep for a minute).
    #[tokio::test(flavor = "current_thread")]
    async fn a_shutdown_fails_the_unread_scopes_and_keeps_the_read_ones() {
        type Task = std::pin::Pin<Box<dyn Future<Output = Collected> + Send>>;
        // Scope 0 says it is read in the same poll that returns its result: the stop comes
        // after it however slowly a loaded machine runs the tasks (no timer decides).
        let (read, was_read) = tokio::sync::oneshot::channel::<()>();
        let mut read = Some(read);
        let tasks: Vec<(Scope, Task)> = (0..5)
            .map(|n| {
                let s = scope(n);
                let c = s.clone();
                let fut: Task = if n == 0 {
                    let read = read.take().expect("one scope 0");
                    Box::pin(async move {
                        let _ = read.send(());
                        Collected::complete(c, Vec::new())
                    })
                } else {
                    Box::pin(async move {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        Collected::complete(c, Vec::new())
                    })
                };
                (s, fut)
            })
            .collect();
        let stop = Shutdown::new();
        let trigger = stop.clone();
        tokio::spawn(async move {
            was_read.await.expect("scope 0 runs");
            trigger.trigger();
        });
        let started = std::time::Instant::now();
        // Two at a time: scopes 3 and 4 are still waiting for a slot when the stop comes.
        let out = run_scopes(tasks, 2, None, &stop, Collected::failed).await;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the stop is prompt"
        );
        assert!(stop.is_triggered());
        assert_eq!(out.len(), 5, "no scope is dropped");
        assert_eq!(out[0].status, SnapshotStatus::Complete);
        for c in &out[1..] {
            assert_eq!(c.status, SnapshotStatus::Failed, "{}", c.scope);
            assert_eq!(
                c.problems[0].code,
                netdrift_snapshots::ProblemCode::Cancelled
            );
            assert!(
                c.problems[0].message.contains("shutting down"),
                "{}",
                c.problems[0].message
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_scope_comes_back_even_when_its_task_panics_or_hangs() {
        type Task = std::pin::Pin<Box<dyn Future<Output = Collected> + Send>>;
        let tasks: Vec<(Scope, Task)> = (0..6)
            .map(|n| {
                let s = scope(n);
                let c = s.clone();
                let fut: Task = match n {
                    2 => Box::pin(async move { panic!("a provider bug") }),
                    4 => Box::pin(async move {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        Collected::complete(c, Vec::new())
                    }),
                    _ => Box::pin(async move { Collected::complete(c, Vec::new()) }),
                };
                (s, fut)
            })
            .collect();
        let out = run_scopes(
            tasks,
            2,
            Some(Duration::from_millis(300)),
            &Shutdown::new(),
            Collected::failed,
        )
        .await;
        assert_eq!(out.len(), 6, "no scope is dropped");
        let status: Vec<SnapshotStatus> = out.iter().map(|c| c.status).collect();
        use SnapshotStatus::*;
        assert_eq!(
            status,
            vec![Complete, Complete, Failed, Complete, Failed, Complete]
        );
        assert!(
            out[2].problems[0].message.contains("ended abnormally"),
            "{:?}",
            out[2].problems
        );
        assert_eq!(
            out[4].problems[0].code,
            netdrift_snapshots::ProblemCode::Timeout
        );
        assert_eq!(out[0].scope, scope(0), "in the order given");
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = DateTime::parse_from_rfc3339("2026-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let cap = Duration::from_secs(60);
        for (header, want) in [
            ("5", Some(5)),
            (" 30 ", Some(30)),
            ("3600", Some(60)),
            ("Wed, 21 Oct 2026 07:28:20 GMT", Some(20)),
            ("Wed, 21 Oct 2026 07:27:00 GMT", Some(0)),
            ("soon", None),
            ("-1", None),
        ] {
            assert_eq!(
                retry_after(header, now, cap),
                want.map(Duration::from_secs),
                "{header:?}"
            );
        }
        assert_eq!(status_problem_code(403).as_str(), "permission-denied");
        assert!(is_retryable(status_problem_code(503)) && !is_retryable(status_problem_code(400)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrency_is_bounded() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<(Scope, _)> = (0..8)
            .map(|n| {
                let (r, p) = (running.clone(), peak.clone());
                (scope(n), async move {
                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    r.fetch_sub(1, Ordering::SeqCst);
                    n
                })
            })
            .collect();
        let out = run_scopes(tasks, 3, None, &Shutdown::new(), |_, _| u32::MAX).await;
        assert_eq!(out, (0..8).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }
}

/// One remediation call (`netdrift revert --apply`): an API operation and its request in the
/// API's own shape.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Call {
    pub call: String,
    pub params: serde_json::Value,
}

/// What became of one call.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallOutcome {
    pub call: String,
    pub ok: bool,
    /// `done`, or the failure in one line.
    pub detail: String,
}

impl CallOutcome {
    pub fn done(c: &Call, detail: String) -> CallOutcome {
        CallOutcome {
            call: c.call.clone(),
            ok: true,
            detail,
        }
    }
    pub fn failed(c: &Call, detail: String) -> CallOutcome {
        CallOutcome {
            call: c.call.clone(),
            ok: false,
            detail,
        }
    }
}
