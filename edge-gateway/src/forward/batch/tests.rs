//! The cutting rules on paused time: the clock only moves when every task waits, so a linger of
//! a second or a wait of an hour costs nothing and the times asserted are exact.

use std::convert::Infallible;
use std::time::Duration;

use futures::channel::mpsc::{UnboundedSender, unbounded};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Full, cut};

const LINGER: Duration = Duration::from_secs(1);

/// Messages are their own local sequence.
fn sequence(message: &u64) -> Option<u64> {
    Some(*message)
}

fn never_full(_: &u64) -> Full {
    Full::No
}

fn send(to: &UnboundedSender<Result<u64, Infallible>>, messages: &[u64]) {
    for message in messages {
        to.unbounded_send(Ok(*message)).unwrap();
    }
}

/// Sends `messages` once `after` has passed.
fn send_later(to: &UnboundedSender<Result<u64, Infallible>>, after: Duration, messages: &[u64]) {
    let (to, messages) = (to.clone(), messages.to_vec());
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        send(&to, &messages);
    });
}

#[tokio::test(start_paused = true)]
async fn a_batch_is_cut_when_the_linger_runs_out() {
    let (to, mut messages) = unbounded();
    send(&to, &[1, 2]);
    send_later(&to, LINGER * 3, &[3]);
    let started = Instant::now();
    let batch = cut(
        &mut messages,
        &CancellationToken::new(),
        LINGER,
        None,
        sequence,
        never_full,
    )
    .await
    .unwrap();
    assert_eq!(batch, vec![1, 2]);
    assert_eq!(started.elapsed(), LINGER);
}

#[tokio::test(start_paused = true)]
async fn an_idle_stream_is_waited_on_past_the_linger_and_never_gives_an_empty_batch() {
    let (to, mut messages) = unbounded();
    send_later(&to, LINGER * 10, &[7]);
    let started = Instant::now();
    let batch = cut(
        &mut messages,
        &CancellationToken::new(),
        LINGER,
        None,
        sequence,
        never_full,
    )
    .await
    .unwrap();
    // The linger ran out while nothing had come: the first message is cut at once.
    assert_eq!(batch, vec![7]);
    assert_eq!(started.elapsed(), LINGER * 10);
}

#[tokio::test(start_paused = true)]
async fn a_full_batch_is_cut_before_the_linger_and_leaves_the_rest() {
    let (to, mut messages) = unbounded();
    send(&to, &[1, 2, 3, 4]);
    let started = Instant::now();
    let mut taken = 0;
    let batch = cut(
        &mut messages,
        &CancellationToken::new(),
        LINGER,
        None,
        sequence,
        |_| {
            taken += 1;
            Full::from(taken == 3)
        },
    )
    .await
    .unwrap();
    assert_eq!(batch, vec![1, 2, 3]);
    assert_eq!(started.elapsed(), Duration::ZERO);
    drop(to);
    assert_eq!(
        futures::StreamExt::next(&mut messages).await,
        Some(Ok(4)),
        "the fourth message stays for the next batch"
    );
}

#[tokio::test(start_paused = true)]
async fn with_an_end_there_is_no_linger_and_the_cut_is_exactly_at_the_end() {
    let (to, mut messages) = unbounded();
    send(&to, &[1]);
    send_later(&to, Duration::from_secs(3_600), &[2, 3, 4]);
    let started = Instant::now();
    let batch = cut(
        &mut messages,
        &CancellationToken::new(),
        LINGER,
        Some(3),
        sequence,
        // Size does not cut a resend either: only the end does.
        |_| Full::Yes,
    )
    .await
    .unwrap();
    assert_eq!(batch, vec![1, 2, 3]);
    assert_eq!(started.elapsed(), Duration::from_secs(3_600));
    drop(to);
    assert_eq!(futures::StreamExt::next(&mut messages).await, Some(Ok(4)));
}

#[tokio::test(start_paused = true)]
async fn shutdown_ends_the_batch_with_what_arrived() {
    let (to, mut messages) = unbounded();
    send(&to, &[1]);
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        stop.cancel();
    });
    let started = Instant::now();
    let batch = cut(
        &mut messages,
        &shutdown,
        LINGER,
        Some(9),
        sequence,
        never_full,
    )
    .await
    .unwrap();
    assert_eq!(batch, vec![1]);
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    drop(to);
}
