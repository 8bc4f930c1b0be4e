//! Running work under a deadline on a thread of its own, without piling up threads.
//!
//! A statvfs on a dead NFS mount blocks forever, and no Rust code can cancel it.
//! So each collector runs on its own thread and the report waits only until its
//! deadline. A thread that missed it is left to finish on its own, and its name is
//! recorded as stuck: until it returns, the same work is skipped instead of started
//! again, so a mount that hangs every day costs one thread, not one a day.
//!
//! The registry lock also orders the race between "the work just finished" and
//! "the waiter just gave up": whichever takes the lock first decides.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::CollectError;

static STUCK: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn stuck() -> MutexGuard<'static, BTreeSet<String>> {
    // A panic never happens while the lock is held, but be robust to one anyway.
    STUCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether work under this name is still running past an earlier deadline.
pub fn is_stuck(name: &str) -> bool {
    stuck().contains(name)
}

/// Records that `name` finished and hands its result over (`deliver`), both under
/// the registry lock, so a waiter giving up at that instant sees one or the other.
pub fn release_with<R>(name: &str, deliver: impl FnOnce() -> R) -> R {
    let mut stuck = stuck();
    stuck.remove(name);
    deliver()
}

/// Marks `name` stuck, unless `arrived` (checked under the registry lock) finds
/// that its result came in after all; then returns that result.
pub fn mark_stuck_unless<R>(name: &str, arrived: impl FnOnce() -> Option<R>) -> Option<R> {
    let mut stuck = stuck();
    let result = arrived();
    if result.is_none() {
        stuck.insert(name.to_string());
    }
    result
}

/// Work started on its own thread.
pub struct Running<T> {
    name: String,
    rx: Receiver<Result<T, CollectError>>,
}

/// Starts `work` on a new thread, unless work under the same name is still stuck.
pub fn spawn<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> Result<T, CollectError> + Send + 'static,
) -> Result<Running<T>, CollectError> {
    if is_stuck(name) {
        return Err(CollectError::new(
            "skipped: its run for an earlier report has not finished yet",
        ));
    }
    let (tx, rx) = mpsc::channel();
    let key = name.to_string();
    let spawned = std::thread::Builder::new()
        .name(format!("collect {name}"))
        .spawn(move || {
            let result = guarded(work);
            let _ = release_with(&key, || tx.send(result));
        });
    spawned.map_err(|e| CollectError::new(format!("cannot start a thread: {e}")))?;
    Ok(Running {
        name: name.to_string(),
        rx,
    })
}

impl<T> Running<T> {
    /// The result, or an error once `deadline` passes (`limit` names the setting).
    pub fn wait(self, deadline: Instant, limit: &str) -> Result<T, CollectError> {
        match self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(result) => result,
            Err(RecvTimeoutError::Disconnected) => Err(CollectError::new("ended without a result")),
            Err(RecvTimeoutError::Timeout) => {
                let mut stuck = stuck();
                match self.rx.try_recv() {
                    Ok(result) => result,
                    Err(_) => {
                        stuck.insert(self.name);
                        Err(CollectError::new(format!(
                            "did not finish within {limit}; skipped until it does"
                        )))
                    }
                }
            }
        }
    }
}

/// Runs `work`, turning a panic into an error with the panic's message.
pub fn guarded<T>(work: impl FnOnce() -> Result<T, CollectError>) -> Result<T, CollectError> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        Err(CollectError::new(format!("panicked: {what}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_result_in_time_is_returned() {
        let r = spawn("t-fast", || Ok(7))
            .unwrap()
            .wait(Instant::now() + Duration::from_secs(5), "5 s");
        assert_eq!(r, Ok(7));
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let r = spawn::<()>("t-panic", || panic!("boom"))
            .unwrap()
            .wait(Instant::now() + Duration::from_secs(5), "5 s");
        assert_eq!(r, Err(CollectError::new("panicked: boom")));
    }

    #[test]
    fn hung_work_is_abandoned_once_and_skipped_until_it_returns() {
        let (release, gate) = mpsc::channel::<()>();
        let r = spawn("t-hang", move || {
            let _ = gate.recv();
            Ok(())
        })
        .unwrap()
        .wait(Instant::now() + Duration::from_millis(50), "50 ms");
        assert_eq!(
            r,
            Err(CollectError::new(
                "did not finish within 50 ms; skipped until it does"
            ))
        );
        assert!(is_stuck("t-hang"));
        // While it hangs, no second thread is started for it.
        assert!(spawn("t-hang", || Ok(())).is_err());
        release.send(()).unwrap();
        let start = Instant::now();
        while is_stuck("t-hang") && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            !is_stuck("t-hang"),
            "it is tried again once it has returned"
        );
    }
}
