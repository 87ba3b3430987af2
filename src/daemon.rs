//! `netdrift daemon`: reconcile on a schedule with tokio-cron-scheduler, for a systemd service.
//!
//! - One job at a time: a tick that arrives while another job runs is skipped and logged.
//! - One daemon per database: the database lock is held for the daemon's lifetime.
//! - Missed runs: if the last reconcile is older than the last scheduled time, it runs once at
//!   start.
//! - SIGTERM/SIGINT: stop taking ticks; a running collection stops reading live scopes (those
//!   not read are recorded as failed, `cancelled`) and its run finishes its transaction (or is
//!   rolled back by SQLite at exit after the stop timeout); exit 0.
//! - `[watch]`: a watch tick every `interval_seconds` (`crate::watch`), skipped like any tick
//!   while another job runs.
//! - SIGHUP: reload and validate the config; keep the old one if the new one is invalid.
//! - systemd: `READY=1`, watchdog pings, and a status line.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::config::{Config, Schedule, Zone};
use crate::lock::{DbLock, Wait};
use crate::reconcile::{reconcile_once, RunOptions};
use crate::store::{ts, SqliteStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Snapshot,
    Reconcile,
    Retention,
    Watch,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            JobKind::Snapshot => "snapshot",
            JobKind::Reconcile => "reconcile",
            JobKind::Retention => "retention",
            JobKind::Watch => "watch",
        }
    }
}

struct State {
    config_path: PathBuf,
    config: Mutex<Config>,
    store: Mutex<SqliteStore>,
    busy: Arc<tokio::sync::Mutex<()>>,
    status: Mutex<String>,
    /// Triggered at SIGTERM/SIGINT: a running collection stops reading and records what it
    /// could not read as `cancelled`.
    shutdown: netdrift_provider_api::Shutdown,
}

fn notify(states: &[sd_notify::NotifyState<'_>]) {
    let _ = sd_notify::notify(states);
}

fn set_status(state: &State, text: String) {
    tracing::info!(status = %text, "status");
    notify(&[sd_notify::NotifyState::Status(&text)]);
    *lock(&state.status) = text;
}

/// Was the last scheduled reconcile missed (no run finished after it)?
pub fn missed(schedule: &Schedule, last_run: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match (schedule.latest_before(now), last_run) {
        (Some(prev), Some(last)) => last < prev,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn run_job(state: &State, kind: JobKind) -> Result<String> {
    if let Some(ms) = std::env::var("NETDRIFT_DEBUG_JOB_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        // Testing aid: make a job slow enough to overlap the next tick.
        std::thread::sleep(Duration::from_millis(ms));
    }
    let cfg = lock(&state.config).clone();
    let mut store = lock(&state.store);
    if let Some(n) = std::env::var("NETDRIFT_DEBUG_PANIC_JOBS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        // Testing aid: the first N jobs panic while holding the store, as a parser bug would.
        static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        if STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n {
            panic!("NETDRIFT_DEBUG_PANIC_JOBS: job panics for the test");
        }
    }
    let out = match kind {
        JobKind::Reconcile => {
            let o = reconcile_once(
                &mut *store,
                &cfg,
                &RunOptions {
                    at: None,
                    write_report: true,
                    shutdown: state.shutdown.clone(),
                },
            )?;
            let new = crate::report::previous_items(&*store, o.run_id)?
                .map(|prev| {
                    let seen: std::collections::BTreeSet<&str> =
                        prev.iter().map(|p| p.id.as_str()).collect();
                    o.report
                        .drift
                        .iter()
                        .filter(|i| !seen.contains(i.id.as_str()))
                        .count()
                })
                .unwrap_or(o.report.drift.len());
            // Retention configured without a cron of its own runs after each reconcile.
            let retains = cfg.retention_days.is_some() || cfg.runs_retention_days.is_some();
            if retains && cfg.schedule.retention.is_none() {
                tracing::info!("{}", retention(&mut store, &cfg, Utc::now())?);
            }
            Ok(format!(
                "last run {} (run {}), {} new drift item(s), {} unapproved, {} coverage finding(s)",
                chrono::Local::now().format("%H:%M"),
                o.run_id,
                new,
                o.report.drift.iter().filter(|i| i.is_unapproved()).count(),
                o.report.coverage.len()
            ))
        }
        JobKind::Snapshot => {
            let snap =
                crate::reconcile::snapshot_once(&mut *store, &cfg, Utc::now(), &state.shutdown)?;
            for f in &snap.findings {
                tracing::warn!(code = %f.code, scope = %f.subject, "{}", f.message);
            }
            Ok(format!(
                "last snapshot {} ({} scope(s), {} finding(s) about what could not be seen)",
                chrono::Local::now().format("%H:%M"),
                snap.snapshot_ids.len(),
                snap.findings.len()
            ))
        }
        JobKind::Watch => {
            let o = crate::watch::watch_once(&mut *store, &cfg, &state.shutdown)?;
            Ok(format!(
                "last watch {} ({} scope(s) read, {} new event(s), {} re-read, {} delivered, {} resolved)",
                chrono::Local::now().format("%H:%M:%S"),
                o.scopes.iter().filter(|s| s.read).count(),
                o.new_events,
                o.scopes.iter().filter(|s| !s.reread.is_empty() || !s.gone.is_empty() || s.whole.is_some()).count(),
                o.delivered.items + o.delivered.coverage,
                o.delivered.resolved
            ))
        }
        JobKind::Retention => retention(&mut store, &cfg, Utc::now()),
    };
    out
}

/// The retention job: runs first (behind a checkpoint), then the snapshots nothing kept
/// references any more.
pub fn retention(store: &mut SqliteStore, cfg: &Config, now: DateTime<Utc>) -> Result<String> {
    let days = |d: u32| now - chrono::Duration::days(d as i64);
    let mut said = Vec::new();
    if let Some(d) = cfg.runs_retention_days {
        match store.prune_runs(days(d), now)? {
            Some(c) => {
                let r = c.parsed()?;
                said.push(format!(
                    "pruned runs {}-{} ({} run(s), checkpoint {})",
                    r.first_run, r.last_run, r.runs, c.id
                ));
            }
            None => said.push("no run old enough to prune".into()),
        }
    }
    if let Some(d) = cfg.retention_days {
        said.push(format!("pruned {} snapshot(s)", store.prune(days(d))?));
        let objects = store.prune_audit_objects(days(d))?;
        if objects > 0 {
            said.push(format!(
                "forgot {objects} audit-log object(s) read before the period"
            ));
        }
    }
    Ok(match said.is_empty() {
        true => "retention: neither max_age_days nor runs_max_age_days is configured".into(),
        false => format!("retention {}", said.join("; ")),
    })
}

async fn tick(state: Arc<State>, kind: JobKind) {
    let Ok(guard) = state.busy.clone().try_lock_owned() else {
        tracing::warn!(
            job = kind.as_str(),
            "tick skipped: another job is still running"
        );
        return;
    };
    let st = state.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _guard = guard;
        run_job(&st, kind)
    })
    .await;
    let cfg = lock(&state.config).clone();
    let next = cfg
        .schedule
        .reconcile
        .next_after(Utc::now())
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "?".into());
    match result {
        Ok(Ok(summary)) => set_status(&state, format!("{summary}; next reconcile {next}")),
        Ok(Err(e)) => {
            tracing::error!(job = kind.as_str(), error = %crate::text::causes(&*e), "job failed");
            set_status(
                &state,
                format!("last {} failed: {e}; next reconcile {next}", kind.as_str()),
            );
        }
        // A panic fails this job alone: its transaction rolled back while unwinding, the locks
        // recover (`lock`), and the next tick runs as usual.
        Err(e) => {
            let why = panic_message(e);
            tracing::error!(job = kind.as_str(), error = %why, "job failed: it panicked");
            set_status(
                &state,
                format!(
                    "last {} failed (panicked: {why}); next reconcile {next}",
                    kind.as_str()
                ),
            );
        }
    }
}

/// A mutex held by a job that panicked is still usable: each store write is one SQLite
/// transaction (rolled back when the panic dropped it) and the configuration is replaced whole.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into()),
        Err(e) => e.to_string(),
    }
}

fn make_job(schedule: &Schedule, state: Arc<State>, kind: JobKind) -> Result<Job> {
    let run = move |_id, _l| {
        let st = state.clone();
        Box::pin(async move { tick(st, kind).await })
            as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
    };
    let expr = schedule.expr();
    let job = match schedule.zone {
        Zone::Utc => Job::new_async_tz(expr, Utc, run),
        Zone::Local => Job::new_async_tz(expr, chrono::Local, run),
        Zone::Named(tz) => Job::new_async_tz(expr, tz, run),
    };
    job.with_context(|| format!("cannot schedule {} job {expr:?}", kind.as_str()))
}

async fn build_scheduler(state: &Arc<State>) -> Result<JobScheduler> {
    let cfg = lock(&state.config).clone();
    let sched = JobScheduler::new().await?;
    sched
        .add(make_job(
            &cfg.schedule.reconcile,
            state.clone(),
            JobKind::Reconcile,
        )?)
        .await?;
    if let Some(s) = &cfg.schedule.snapshot {
        sched
            .add(make_job(s, state.clone(), JobKind::Snapshot)?)
            .await?;
    }
    if let Some(s) = &cfg.schedule.retention {
        sched
            .add(make_job(s, state.clone(), JobKind::Retention)?)
            .await?;
    }
    if let Some(w) = &cfg.watch {
        let st = state.clone();
        let job = Job::new_repeated_async(w.interval, move |_id, _l| {
            let st = st.clone();
            Box::pin(async move { tick(st, JobKind::Watch).await })
                as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        })
        .context("cannot schedule the watch job")?;
        sched.add(job).await?;
    }
    sched.start().await?;
    Ok(sched)
}

/// Run the daemon until SIGTERM or SIGINT.
pub async fn run(config_path: PathBuf, db: Option<PathBuf>, stop_timeout: Duration) -> Result<()> {
    let cfg = Config::load(&config_path)?;
    let db = db
        .or(cfg.database.clone())
        .unwrap_or_else(crate::paths::default_db);
    let _lock = DbLock::acquire(&db, Wait::Exit)?;
    let store = SqliteStore::open(&db)?;
    let last_run = store.runs(1)?.last().map(|r| r.finished_at);
    let state = Arc::new(State {
        shutdown: netdrift_provider_api::Shutdown::new(),
        config_path: config_path.clone(),
        config: Mutex::new(cfg.clone()),
        store: Mutex::new(store),
        busy: Arc::new(tokio::sync::Mutex::new(())),
        status: Mutex::new(String::new()),
    });
    tracing::info!(config = %config_path.display(), db = %db.display(), reconcile = %cfg.schedule.reconcile.expr(), timezone = %cfg.schedule.timezone, "daemon starting");
    let mut sched = build_scheduler(&state).await?;
    let next = cfg.schedule.reconcile.next_after(Utc::now());
    notify(&[sd_notify::NotifyState::Ready]);
    set_status(
        &state,
        format!(
            "ready; last run {}; next reconcile {}",
            last_run.map(ts).unwrap_or_else(|| "never".into()),
            next.map(ts).unwrap_or_else(|| "?".into())
        ),
    );
    if missed(&cfg.schedule.reconcile, last_run, Utc::now()) {
        tracing::info!("the last scheduled reconcile was missed; running it now");
        let st = state.clone();
        tokio::spawn(async move { tick(st, JobKind::Reconcile).await });
    }
    if let Some(interval) = sd_notify::watchdog_enabled() {
        let period = interval / 2;
        tokio::spawn(async move {
            let mut iv = tokio::time::interval(period);
            loop {
                iv.tick().await;
                notify(&[sd_notify::NotifyState::Watchdog]);
            }
        });
    }
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                notify(&[sd_notify::NotifyState::Reloading]);
                match Config::load(&state.config_path) {
                    Ok(new) => {
                        *lock(&state.config) = new;
                        let _ = sched.shutdown().await;
                        match build_scheduler(&state).await {
                            Ok(s) => { sched = s; tracing::info!("configuration reloaded"); }
                            Err(e) => tracing::error!(error = %crate::text::causes(&*e), "rescheduling after reload failed"),
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "reload refused: the new configuration is invalid; still running on the previous one"),
                }
                notify(&[sd_notify::NotifyState::Ready]);
            }
        }
    }
    notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!(
        "stopping: no new ticks; the running job stops reading and records what it could not read"
    );
    state.shutdown.trigger();
    let _ = sched.shutdown().await;
    match tokio::time::timeout(stop_timeout, state.busy.lock()).await {
        Ok(_) => tracing::info!("stopped cleanly"),
        Err(_) => {
            tracing::warn!("stop timeout reached; exiting, SQLite rolls back any unfinished write")
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_nightly_run_is_detected() {
        let now: DateTime<Utc> = "2026-11-27T09:00:00Z".parse().unwrap();
        let expr = Schedule::parse("0 0 2 * * *", crate::config::Zone::Utc).unwrap();
        assert!(missed(
            &expr,
            Some("2026-11-26T02:00:30Z".parse().unwrap()),
            now
        ));
        assert!(!missed(
            &expr,
            Some("2026-11-27T02:00:30Z".parse().unwrap()),
            now
        ));
        assert!(missed(&expr, None, now));
        assert_eq!(
            expr.next_after(now).unwrap().to_rfc3339(),
            "2026-11-28T02:00:00+00:00"
        );
    }
}
