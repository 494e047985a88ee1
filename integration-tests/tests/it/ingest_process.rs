//! ingest as a real process: it answers `$SRV.PING` like any NATS micro service, and SIGTERM
//! stops it within 5 s with every message it received either acknowledged (and written) or
//! left for redelivery — never acknowledged without its row.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use edgeops_contracts::streams;
use edgeops_integration_tests::{TestStack, check, wait_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{count_rows, hub_subject, reading_json};

/// The `edgeops-ingest` binary next to this test binary (`target/<profile>/`).
pub fn ingest_binary() -> PathBuf {
    binary("edgeops-ingest")
}

/// A workspace binary next to this test binary (`target/<profile>/`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = dir.join(name);
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --bins` first (infra/scripts/test.sh does)",
        binary.display()
    );
    binary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_answers_ping_and_stops_cleanly_on_sigterm() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let js = stack.hub_js().await;
    let total: i64 = 20_000;
    for n in 0..total {
        let ack = js
            .publish(
                hub_subject("s1", &format!("d{}", n % 10)),
                reading_json(n).into(),
            )
            .await
            .unwrap();
        if n % 1000 == 999 {
            ack.await.unwrap();
        }
    }

    let mut child = tokio::process::Command::new(ingest_binary())
        .env("EDGEOPS_NATS_URL", &stack.hub_url)
        .env("EDGEOPS_DATABASE_URL", &stack.database_url)
        .env("EDGEOPS_INGEST_BATCH_SIZE", "200")
        .env(
            "RUST_LOG",
            std::env::var("TEST_INGEST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let client = stack.hub_client().await;
    let pong = wait_until(
        "ingest to answer $SRV.PING.ingest",
        Duration::from_secs(30),
        || {
            let client = client.clone();
            async move {
                match client.request("$SRV.PING.ingest", "".into()).await {
                    Ok(reply) => Ok(Some(
                        serde_json::from_slice::<serde_json::Value>(&reply.payload)
                            .map_err(|e| e.to_string())?,
                    )),
                    Err(err) => Err(err.to_string()),
                }
            }
        },
    )
    .await;
    assert_eq!(pong["name"], "ingest");
    assert_eq!(pong["type"], "io.nats.micro.v1.ping_response");

    let pool = stack.pool().await;
    wait_until("ingest to be mid-way", Duration::from_secs(60), || async {
        let rows = count_rows(&pool).await.unwrap_or(0);
        check(rows > 0, format!("{rows} rows"))
    })
    .await;

    let status = client
        .request("edgeops.svc.ingest.status", "".into())
        .await
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.payload).unwrap();
    assert!(status["accepted"].as_u64().is_some(), "{status}");
    // Mid-run, the projection lags the stream; the lag is polled every 2 s.
    let lag = wait_until("ingest to report its lag", Duration::from_secs(10), || {
        let client = client.clone();
        async move {
            let reply = client
                .request("edgeops.svc.ingest.status", "".into())
                .await
                .map_err(|e| e.to_string())?;
            let status: serde_json::Value =
                serde_json::from_slice(&reply.payload).map_err(|e| e.to_string())?;
            let lag = status["lag_messages"].as_u64().unwrap_or(0);
            if lag > 0 {
                Ok(Some(lag))
            } else {
                Err(format!("{status}"))
            }
        }
    })
    .await;
    assert!(lag <= total as u64, "lag {lag} of {total}");

    let pid = Pid::from_raw(child.id().unwrap() as i32);
    let signalled = Instant::now();
    kill(pid, Signal::SIGTERM).unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("ingest must stop within 5 s of SIGTERM")
        .unwrap();
    assert!(exit.success(), "clean exit, got {exit:?}");
    eprintln!("ingest stopped {:?} after SIGTERM", signalled.elapsed());

    let readings = js.get_stream(streams::HUB_READINGS).await.unwrap();
    let info = readings.consumer_info("ingest").await.unwrap();
    let rows = count_rows(&pool).await.unwrap();
    eprintln!(
        "after SIGTERM: {rows} rows, consumer {:?} delivered, {:?} ack floor, {} ack pending, {} pending",
        info.delivered, info.ack_floor, info.num_ack_pending, info.num_pending
    );
    assert_eq!(
        info.num_ack_pending, 0,
        "every delivered message was settled before exit"
    );
    assert_eq!(info.num_redelivered, 0);
    assert_eq!(
        rows as u64, info.ack_floor.stream_sequence,
        "acked exactly the messages that were written"
    );
    assert_eq!(
        info.ack_floor.stream_sequence + info.num_pending,
        total as u64,
        "the rest waits for the next ingest"
    );
    assert!(
        rows < total,
        "SIGTERM arrived mid-run ({rows} of {total} written)"
    );
}
