//! rayon's global pool: the program's main thread as one of its workers, and workers kept
//! awake through a run of short parallel loops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// Makes the calling thread worker 0 of rayon's global pool (of `RAYON_NUM_THREADS` threads, or
/// one per core: rayon's default count, this thread included). The parallel loops it starts then
/// run partly on itself and go on there while the other workers wake, where from outside the
/// pool each one was handed to the pool while the caller slept until woken. On a 2-core virtual
/// machine (AMD EPYC) such a hand-off cost about 20 µs (an empty `rayon::join`), a fifth of a
/// synchronous Hopfield sweep of N = 1,000; with one thread nothing is handed off at all.
///
/// For a program's `main`, before any parallel work (the experiments binary and the benchmarks
/// call it first). Returns `false`, leaving everything as it was, when the global pool exists
/// already or this thread belongs to another pool. Results do not change: every parallel loop
/// of the toolkit gives the same bits whichever threads run it.
pub fn join_global_pool() -> bool {
    rayon::ThreadPoolBuilder::new().use_current_thread().build_global().is_ok()
}

/// How long a worker kept awake by [`with_workers_awake`] polls without finding work before it
/// goes back to rayon's own idling (and sleep): long enough to bridge the sequential stretches
/// between a run's parallel loops (a solver step's bookkeeping, an optimiser update), short
/// enough that a run doing nothing in parallel does not keep a core busy for long.
const POLL_WITHOUT_WORK: Duration = Duration::from_millis(20);

/// Runs `body` on this thread while the pool's other workers wait for its parallel work by
/// polling for it rather than sleeping. A sleeping worker takes 10-100 µs to wake (measured on
/// a 2-core virtual machine: the second half of a `rayon::join` that follows 50 µs of
/// sequential work started a median 35 µs late), and a run of many short parallel loops paid
/// that at every loop; BLAS libraries keep their threads spinning between calls for the same
/// reason. Each polling worker runs whatever work it finds (rayon's `yield_now`) and stops
/// polling when `body` returns or after 20 ms without finding any, so a run that does nothing
/// in parallel keeps no core busy for long, and a worker that picked up a poller while it
/// waited inside `body`'s work (pollers are queued first and taken first, so only with three or
/// more threads) holds that work back for at most as long. Results do not change: only who runs
/// the work does.
pub fn with_workers_awake<R>(body: impl FnOnce() -> R) -> R {
    let others = rayon::current_num_threads().saturating_sub(usize::from(rayon::current_thread_index().is_some()));
    if others == 0 {
        return body();
    }
    let done = AtomicBool::new(false);
    let caller = std::thread::current().id();
    rayon::in_place_scope(|s| {
        for _ in 0..others {
            s.spawn(|_| poll_for_work(&done, caller));
        }
        // Set even if `body` panics, so that the scope's wait for the pollers ends.
        let _finished = SetOnDrop(&done);
        body()
    })
}

struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

fn poll_for_work(done: &AtomicBool, caller: ThreadId) {
    // The caller itself may pick up a poller while it waits inside `body`: it must not poll for
    // its own end.
    if std::thread::current().id() == caller {
        return;
    }
    let mut idle_since: Option<Instant> = None;
    while !done.load(Ordering::Acquire) {
        if let Some(rayon::Yield::Executed) = rayon::yield_now() {
            idle_since = None;
        } else if idle_since.get_or_insert_with(Instant::now).elapsed() > POLL_WITHOUT_WORK {
            return;
        } else {
            // Hands the core to any other runnable thread (tests running beside this run, say);
            // on an idle core it returns at once.
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn the_body_runs_here_with_its_parallel_work_and_nested_calls() {
        let here = std::thread::current().id();
        let (ran_on, sum) = with_workers_awake(|| {
            let sum = (1..=10_000u64).into_par_iter().map(|i| with_workers_awake(|| i * 2)).sum::<u64>();
            (std::thread::current().id(), sum)
        });
        assert_eq!(ran_on, here);
        assert_eq!(sum, 10_000 * 10_001);
        // From inside a pool of one thread and of three, too.
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let n = pool.install(|| with_workers_awake(|| (0..1000u32).into_par_iter().filter(|i| i % 7 == 0).count()));
            assert_eq!(n, 143);
        }
    }

    #[test]
    fn a_panicking_body_ends_the_pollers_and_the_panic_reaches_the_caller() {
        let out = std::panic::catch_unwind(|| with_workers_awake(|| -> u32 { panic!("inside") }));
        assert!(out.is_err());
        // The pool still works afterwards.
        assert_eq!(with_workers_awake(|| (0..100u32).into_par_iter().sum::<u32>()), 4950);
    }
}
