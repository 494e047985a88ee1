//! The one question training asks the registry: which version of a model is in production for
//! a scope. Kept to this function so a typed registry client can take its place in one edit.

use edgeops_contracts::training::{ProdQuery, ProdReply, ProdVersion, RunRequest};

/// The production version for `request`'s model and scope; `None` when there is none, or when
/// the registry does not answer (a run does not wait for it: it just has nothing to compare).
pub(super) async fn prod_version(
    client: &async_nats::Client,
    request: &RunRequest,
) -> Option<ProdVersion> {
    let query = ProdQuery {
        model: request.model.clone(),
        scope: request.scope.clone(),
    };
    edgeops_bus::service::call::<_, ProdReply>(client, "registry", "prod", &query)
        .await
        .inspect_err(|e| tracing::info!(error = %e, "no registry answer; no incumbent to compare"))
        .ok()?
        .prod
}
