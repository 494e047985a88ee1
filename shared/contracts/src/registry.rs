//! The registry's aggregate kinds: subject tokens of its events, read by the registry itself and
//! by the hub topology (its projection consumer filters on them), so defined once, here.

/// One aggregate per model version (id `<model>.<version>`).
pub const MODEL_VERSION_AGGREGATE: &str = "model_version";
