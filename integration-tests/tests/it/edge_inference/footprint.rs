//! The gateway binary's resident memory, idle and then serving a realistic tree model, measured
//! on a real process against real NATS. Ignored by default (it needs the release binary):
//!
//! ```text
//! cargo build --release -p edgeops-edge-gateway
//! cargo nextest run -p edgeops-integration-tests -E 'test(edge_inference_footprint)' \
//!     --run-ignored only --no-capture
//! ```
//!
//! Prints one JSON line; `EDGEOPS_GATEWAY_BIN` overrides the binary's path.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use edgeops_contracts::streams;
use edgeops_features::FeatureSpec;
use edgeops_integration_tests::{TestStack, check, wait_until};
use edgeops_onnx::{BranchRule, ModelGraph, Regressor, Tree, TreeNode};

use super::fixtures::*;

/// `trees` depth-4 trees (training's depth) over the indoor-air features, thresholds spread
/// over realistic values of each feature.
fn tree_model(trees: usize) -> Vec<u8> {
    let spec = FeatureSpec::indoor_air();
    let names = spec.names();
    let mut state = 42u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let scale = |name: &str| match name.split('_').next() {
        Some("co2") => (400.0, 1_200.0),
        Some("temperature") => (18.0, 8.0),
        Some("humidity") => (30.0, 30.0),
        _ => (-1.0, 2.0),
    };
    let trees = (0..trees)
        .map(|_| {
            let mut nodes: Vec<TreeNode> = (0..15)
                .map(|i| {
                    let feature = (next() * names.len() as f64) as usize % names.len();
                    let (low, span) = scale(&names[feature]);
                    TreeNode::Branch {
                        feature,
                        threshold: low + span * next(),
                        rule: BranchRule::LessThan,
                        if_true: 2 * i + 1,
                        if_false: 2 * i + 2,
                        missing_goes_true: true,
                    }
                })
                .collect();
            nodes.extend((0..16).map(|_| TreeNode::Leaf {
                value: (next() - 0.5) * 4.0,
            }));
            Tree { nodes }
        })
        .collect();
    let graph = ModelGraph {
        feature_names: names.clone(),
        regressor: Regressor::TreeEnsemble { base: 0.0, trees },
        plus_feature: names.iter().position(|n| *n == spec.target),
        metadata: vec![(
            "edgeops.feature_spec".into(),
            serde_json::to_string(&spec).unwrap(),
        )],
        doc: "footprint".into(),
        model_version: 1,
    };
    edgeops_onnx::encode(&graph).unwrap()
}

/// Kills the gateway process when the test ends, failed or not.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the release gateway binary; prints a measurement"]
async fn edge_inference_footprint_of_the_gateway_process() {
    let binary = std::env::var_os("EDGEOPS_GATEWAY_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/edgeops-edge-gateway"),
        PathBuf::from,
    );
    assert!(binary.is_file(), "build it first: {}", binary.display());
    let stack = TestStack::start(&[SITE]).await;
    stack.register_sites(&[SITE]).await;
    let bytes = tree_model(300);
    store_object(&stack, &object_name(1), &bytes).await;
    let wanted = desired(signed(1, &bytes, &trusted_key()));
    let cache = tempfile::tempdir().unwrap();
    let gateway = Command::new(&binary)
        .env("EDGEOPS_SITE", SITE)
        .env("EDGEOPS_LEAF_URL", &stack.leaf(SITE).url)
        .env(
            "EDGEOPS_TRUSTED_KEYS",
            trusted_key().public_key().to_base64(),
        )
        .env("EDGEOPS_MODEL_CACHE_DIR", cache.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let gateway = Child(gateway);
    let pid = gateway.0.id();
    let leaf = stack.leaf_client(SITE).await;
    let local = async_nats::jetstream::with_domain(leaf.clone(), format!("edge-{SITE}"));
    // One persistence forecast: the gateway runs, ONNX Runtime started, no model loaded.
    wait_until(
        "the gateway's forecast stream",
        Duration::from_secs(30),
        || async {
            check(
                local.get_stream(streams::LOCAL_FORECASTS).await.is_ok(),
                "not yet",
            )
        },
    )
    .await;
    let mut forecasts = Forecasts::subscribe(&leaf).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        publish_reading(&leaf, -5).await;
        let heard = tokio::time::timeout(Duration::from_millis(500), forecasts.next()).await;
        if heard.is_ok() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no forecast within 30 s"
        );
    }
    let started = vm_rss_kib(pid);

    put_desired(&stack, &wanted).await;
    let applied = wait_for_event(&stack, "edge.model_applied", 1).await;
    let readings = 300;
    let before = stream_messages(&local, streams::LOCAL_FORECASTS).await;
    for m in 0..readings {
        publish_reading(&leaf, m * 5).await;
    }
    wait_until(
        "a forecast per reading",
        Duration::from_secs(60),
        || async {
            let total = stream_messages(&local, streams::LOCAL_FORECASTS).await;
            let made = total - before;
            check(
                made == readings as u64,
                format!("{made} ({total} - {before})"),
            )
        },
    )
    .await;
    let serving = vm_rss_kib(pid);
    drop(gateway);
    println!(
        "{}",
        serde_json::json!({
            "benchmark": "edge_gateway_memory",
            "model": {"kind": "tree_ensemble", "trees": 300, "depth": 4, "onnx_bytes": bytes.len()},
            "gateway_vm_rss_kib": {"started_no_model": started, "serving_model": serving},
            "warm_up_us": applied.data["warm_up_us"],
            "forecasts": readings,
        })
    );
    assert!(serving > 0 && started > 0);
}
