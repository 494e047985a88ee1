//! Single-row latency, measured by hand (ignored by default; run in release):
//! `cargo test --release -p edgeops-inference --test latency -- --ignored --nocapture`
// Helpers outside #[test] fns may unwrap too: a failure there is a failed assertion.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::{Rng, graph, random_tree, rows};
use edgeops_onnx::{ModelGraph, Regressor};

const CALLS: usize = 20_000;

fn measure(name: &str, g: &ModelGraph) {
    let model = common::load(g);
    model.warm_up().unwrap();
    let inputs = rows(&mut Rng::new(9), g, 256);
    report(name, "predict_one", |i| {
        model.predict_one(&inputs[i % inputs.len()]).unwrap()
    });
    // The batch path at n = 1, for comparison: a borrowed input tensor and an output
    // allocated by ONNX Runtime on every call.
    report(name, "predict(n=1)", |i| {
        model.predict(&inputs[i % inputs.len()], 1).unwrap()[0]
    });
}

fn report(name: &str, path: &str, mut call: impl FnMut(usize) -> f32) {
    let mut nanos: Vec<u128> = (0..CALLS)
        .map(|i| {
            let start = Instant::now();
            let y = call(i);
            let elapsed = start.elapsed().as_nanos();
            std::hint::black_box(y);
            elapsed
        })
        .collect();
    nanos.sort_unstable();
    let at = |q: f64| nanos[((nanos.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    println!(
        "{name}: {path} over {CALLS} calls: p50 {:.2} us, p90 {:.2} us, p99 {:.2} us",
        at(0.5),
        at(0.9),
        at(0.99)
    );
}

#[test]
#[ignore = "timing, run by hand in release"]
fn single_row_latency() {
    let mut rng = Rng::new(5);
    let trees = (0..50).map(|_| random_tree(&mut rng, 5, 20)).collect();
    measure(
        "tree ensemble (50 trees, depth 5, 20 features, plus_feature)",
        &graph(20, Regressor::TreeEnsemble { base: 0.0, trees }, Some(3)),
    );
    let weights = (0..20).map(|_| rng.uniform(-1.0, 1.0)).collect();
    measure(
        "linear (20 features, plus_feature)",
        &graph(20, Regressor::Linear { weights, bias: 0.5 }, Some(3)),
    );
}
