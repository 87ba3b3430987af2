//! Progress on interactive runs: a bar on standard error with the phase (discover, collect,
//! audit, diff, report), the scopes done of all found, and the time elapsed. Only when standard
//! error is a terminal and `-q` was not given; journald, CI and pipes get nothing of it. Log
//! lines printed meanwhile go above the bar.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn bar() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    BAR.lock().unwrap_or_else(|p| p.into_inner())
}

/// Turn progress on for this process when standard error is a terminal and not `quiet`.
pub fn enable(quiet: bool) {
    if quiet || !std::io::stderr().is_terminal() {
        return;
    }
    ENABLED.store(true, std::sync::atomic::Ordering::Relaxed);
    netdrift_provider_api::progress::set_hook(|step| {
        if let Some(b) = bar().as_ref() {
            match step {
                netdrift_provider_api::progress::Step::Scopes(n) => {
                    b.inc_length(n as u64);
                    b.set_prefix("collect");
                }
                netdrift_provider_api::progress::Step::Done(scope) => {
                    b.inc(1);
                    // A scope key is an id the cloud gave; nothing in it may move the cursor.
                    let shown: String = scope
                        .chars()
                        .map(|c| if c.is_control() { '?' } else { c })
                        .collect();
                    b.set_message(shown);
                }
            }
        }
    });
}

/// One cycle's bar: started by [`Cycle::start`], finished when dropped (also when the cycle
/// fails half-way).
pub struct Cycle(());

impl Cycle {
    pub fn start(phase: &str) -> Cycle {
        start(phase);
        Cycle(())
    }
}

impl Drop for Cycle {
    fn drop(&mut self) {
        finish();
    }
}

/// A new bar for one cycle, starting in `phase`.
fn start(phase: &str) {
    if !ENABLED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template(
            "{spinner} {prefix:>8} [{elapsed_precise}] scopes {pos}/{len} {wide_msg}",
        )
        .expect("a valid progress template"),
    );
    b.set_prefix(phase.to_string());
    b.enable_steady_tick(std::time::Duration::from_millis(120));
    *bar() = Some(b);
}

/// The cycle moved on to `phase`.
pub fn phase(phase: &str) {
    if let Some(b) = bar().as_ref() {
        b.set_prefix(phase.to_string());
    }
}

/// The cycle is over: the bar's last state stays as one line ("done … scopes 4/4").
fn finish() {
    if let Some(b) = bar().take() {
        b.set_prefix("done");
        b.set_message("");
        b.finish();
    }
}

/// Run `f` (which writes to standard error) with the bar out of the way.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let b = bar().clone();
    match b {
        Some(b) => b.suspend(f),
        None => f(),
    }
}
