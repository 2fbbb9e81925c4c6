//! `join_global_pool` in a process of its own (it sets up rayon's global pool once per process).

use rayon::prelude::*;

#[test]
fn the_calling_thread_becomes_worker_zero_of_the_global_pool() {
    assert_eq!(rayon::current_thread_index(), None, "a plain thread is no worker");
    assert!(cg_core::join_global_pool());
    assert_eq!(rayon::current_thread_index(), Some(0));
    // Parallel work started here runs (on this thread and the others) and gives the same answer.
    let n = 100_000u64;
    assert_eq!((1..=n).into_par_iter().sum::<u64>(), n * (n + 1) / 2);
    let (a, b) = rayon::join(rayon::current_thread_index, || 7);
    assert_eq!((a, b), (Some(0), 7), "join's first half runs on the caller");
    // Once only: a second call changes nothing.
    assert!(!cg_core::join_global_pool());
    assert_eq!(rayon::current_thread_index(), Some(0));
}
