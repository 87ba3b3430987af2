//! Progress of a collection, for a person watching it: how many scopes there are and which is
//! done. [`crate::run_scopes`] and netdrift's file sources report here; netdrift's CLI installs
//! the one hook that draws it (a progress bar on an interactive terminal, nothing otherwise).

use std::sync::OnceLock;

/// One step of a collection.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// This many more scopes will be collected.
    Scopes(usize),
    /// This scope is done (collected, failed or cancelled).
    Done(&'a str),
}

type Hook = Box<dyn Fn(Step<'_>) + Send + Sync>;

static HOOK: OnceLock<Hook> = OnceLock::new();

/// Install the process's hook (once; later calls are ignored).
pub fn set_hook(f: impl Fn(Step<'_>) + Send + Sync + 'static) {
    let _ = HOOK.set(Box::new(f));
}

/// Report a step to the hook, if one is installed.
pub fn report(step: Step<'_>) {
    if let Some(h) = HOOK.get() {
        h(step);
    }
}
