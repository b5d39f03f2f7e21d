//! A time limit for `KVM_RUN`: a guest that never exits would block the VMM (and a test) forever.
//!
//! A helper thread waits for the limit, then raises a flag and keeps sending the vCPU thread a
//! real-time signal with an empty handler. The signal makes a blocked `KVM_RUN` return `EINTR`;
//! the run loop checks the flag before every entry, so a signal that lands outside `KVM_RUN` is
//! simply repeated.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use vmm_sys_util::signal::{SIGRTMIN, register_signal_handler};

use crate::error::Error;

/// How often the signal is repeated once the limit has passed.
const KICK_INTERVAL: Duration = Duration::from_millis(20);

/// The signal that interrupts `KVM_RUN`.
fn kick_signal() -> libc::c_int {
    SIGRTMIN()
}

extern "C" fn ignore_kick(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

/// Installs the empty handler once per process (the default action would kill the process).
fn install_handler() -> Result<(), Error> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            register_signal_handler(kick_signal(), ignore_kick)
                .map_err(|e| format!("cannot install the watchdog's signal handler: {e}"))
        })
        .clone()
        .map_err(Error::Watchdog)
}

/// Runs `f` on this thread; if it has not returned after `limit`, sets the flag `f` receives and
/// interrupts this thread's blocking system calls until `f` returns.
///
/// # Errors
///
/// `Watchdog` if the handler cannot be installed or the helper thread cannot be started.
pub fn limit<T>(limit: Duration, f: impl FnOnce(&AtomicBool) -> T) -> Result<T, Error> {
    install_handler()?;
    // SAFETY: `pthread_self` has no preconditions.
    let target = unsafe { libc::pthread_self() };
    let expired = AtomicBool::new(false);
    let (done, done_rx) = mpsc::channel::<()>();
    thread::scope(|scope| {
        let expired = &expired;
        thread::Builder::new()
            .name("vcpu-watchdog".into())
            .spawn_scoped(scope, move || {
                let mut wait = limit;
                while let Err(RecvTimeoutError::Timeout) = done_rx.recv_timeout(wait) {
                    expired.store(true, Ordering::SeqCst);
                    // SAFETY: `target` is the thread that runs this scope; it cannot exit before
                    // the scope has joined this thread. The signal's handler does nothing.
                    unsafe { libc::pthread_kill(target, kick_signal()) };
                    wait = KICK_INTERVAL;
                }
            })
            .map_err(|e| Error::Watchdog(format!("cannot start the watchdog thread: {e}")))?;
        let out = f(expired);
        // Disconnecting wakes the watchdog, which then returns; the scope joins it.
        drop(done);
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quick_call_is_not_flagged() {
        let flagged = limit(Duration::from_secs(10), |f| f.load(Ordering::SeqCst)).unwrap();
        assert!(!flagged);
    }

    #[test]
    fn a_blocking_call_is_interrupted_after_the_limit() {
        let start = std::time::Instant::now();
        let result = limit(Duration::from_millis(50), |expired| {
            // `sleep` resumes after signals, so wait for the flag the way the run loop does.
            while !expired.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(5));
            }
            start.elapsed()
        })
        .unwrap();
        assert!(result >= Duration::from_millis(50));
        assert!(result < Duration::from_secs(5));
    }
}
