//! The bulk-move drill (issue 10.3) at a scaled budget, so it takes seconds: 200 candidates
//! of one tenant moved at once — three quarters into Xref's stage, a quarter into Sterling's
//! with Sterling slow — must end with one order per candidate at its vendor, none twice,
//! none lost, nothing dead-lettered, as the vendor simulators hold them. Under the shared
//! limiter (its per-second cap below the bucket's refill) Lever answers no 429 at all;
//! without it (`unpaced`) Lever's 429s are retried and still nothing is ordered twice or
//! lost; one message at a time (`fifo`) orders everyone too, only slower.

use crate::support::SUBMITTED;
use lever_screening_local::drills::bulk_move::{run_one, Candidate, Mechanism, Options, Run};
use std::collections::HashSet;
use std::time::Instant;

/// Lever's budget and the product's limiter scaled up tenfold (bucket 100/s, burst 200;
/// limiter 80/s ≤ 100/s), low latencies, Sterling slow, failed work retried soon.
fn scaled() -> Options {
    Options {
        candidates: 200,
        lever_rate: 100,
        lever_burst: 200,
        limiter_rate: 80,
        slow_vendor_ms: 200,
        slow_share: 25,
        lever_latency_ms: 5,
        vendor_latency_ms: 10,
        workers: 10,
        work_retry_ms: Some(100),
        timeout_secs: 120,
        ..Options::default()
    }
}

fn sorted_emails(candidates: &[Candidate]) -> Vec<String> {
    let mut emails: Vec<String> = candidates.iter().map(|c| c.email.clone()).collect();
    emails.sort();
    emails
}

/// Every moved candidate has exactly one order at the vendor of the stage it was moved
/// into, and none at the other, as the simulators hold them; nothing was dead-lettered;
/// Lever shows each Xref order and no Sterling note twice.
async fn assert_each_ordered_exactly_once(run: &Run, candidates: usize) {
    let stack = &run.stack;
    let (to_xref, to_sterling) = (candidates * 3 / 4, candidates / 4);
    assert_eq!(run.plan.xref.len(), to_xref);
    assert_eq!(run.plan.sterling.len(), to_sterling);

    let mut at_xref: Vec<String> = stack
        .xref
        .orders()
        .into_iter()
        .map(|order| order.candidate.email)
        .collect();
    at_xref.sort();
    assert_eq!(
        at_xref,
        sorted_emails(&run.plan.xref),
        "one Xref order per candidate moved into 'Reference Check', and no other"
    );

    let people = stack.sterling.candidates();
    let mut at_sterling: Vec<String> = stack
        .sterling
        .screenings()
        .into_iter()
        .map(|screening| {
            people
                .iter()
                .find(|c| c.id == screening.candidate_id)
                .map(|c| c.email.clone())
                .unwrap_or_else(|| panic!("screening {} has no candidate", screening.id))
        })
        .collect();
    at_sterling.sort();
    assert_eq!(
        at_sterling,
        sorted_emails(&run.plan.sterling),
        "one Sterling screening per candidate moved into 'Background Check', and no other"
    );

    let dead = stack.app.queue().dead_letters(1000).await.unwrap();
    assert!(dead.is_empty(), "dead letters: {dead:?}");

    for candidate in &run.plan.xref {
        let tags = stack
            .lever
            .opportunity(&candidate.opportunity_id)
            .unwrap()
            .tags;
        assert_eq!(tags, [SUBMITTED], "{}", candidate.email);
    }
    for candidate in &run.plan.sterling {
        let notes = stack.lever.notes(&candidate.opportunity_id);
        assert!(!notes.is_empty(), "{}: no note in Lever", candidate.email);
        // Each note the product writes has its own creation time: one seen twice is a
        // write made twice.
        let times: HashSet<i64> = notes.iter().map(|note| note.created_at).collect();
        assert_eq!(
            times.len(),
            notes.len(),
            "{}: a note written twice: {notes:?}",
            candidate.email
        );
    }

    // The drill's own figures agree with the witnesses.
    let row = &run.row;
    assert!(row.held(), "{:?}", row.problems());
    assert_eq!(row.deliveries_accepted, candidates);
    assert_eq!(
        (row.xref.orders, row.sterling.orders),
        (to_xref, to_sterling)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limiter_orders_200_candidates_once_each_without_a_single_429() {
    let started = Instant::now();
    let run = run_one(Mechanism::Limiter, &scaled()).await.unwrap();
    eprintln!("limiter: {:?} in {:?}", run.row, started.elapsed());
    assert!(run.row.settled_secs.is_some(), "the queue did not drain");
    assert_each_ordered_exactly_once(&run, 200).await;
    assert_eq!(
        run.stack.lever.throttled_count(),
        0,
        "the limiter's 80/s per key stays inside Lever's bucket (100/s, burst 200)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaced_still_orders_every_candidate_exactly_once() {
    let started = Instant::now();
    let run = run_one(Mechanism::Unpaced, &scaled()).await.unwrap();
    eprintln!("unpaced: {:?} in {:?}", run.row, started.elapsed());
    assert!(run.row.settled_secs.is_some(), "the queue did not drain");
    assert_each_ordered_exactly_once(&run, 200).await;
}

/// One message of the tenant at a time, as a FIFO queue with one message group per tenant
/// gives: fewer candidates, since they go one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_orders_every_candidate_exactly_once_one_at_a_time() {
    let options = Options {
        candidates: 40,
        slow_vendor_ms: 50,
        ..scaled()
    };
    let started = Instant::now();
    let run = run_one(Mechanism::Fifo, &options).await.unwrap();
    eprintln!("fifo: {:?} in {:?}", run.row, started.elapsed());
    assert!(run.row.settled_secs.is_some(), "the queue did not drain");
    assert_each_ordered_exactly_once(&run, 40).await;
    assert_eq!(run.stack.lever.throttled_count(), 0);
}
