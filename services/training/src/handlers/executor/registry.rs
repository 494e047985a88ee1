//! The one question training asks the registry: which version of a model is in production for
//! a scope, through the registry's typed client.

use edgeops_contracts::training::RunRequest;
use edgeops_registry_api::{ProdQuery, ProdVersion, RegistryClient};

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
    RegistryClient::new(client.clone())
        .prod(&query)
        .await
        .inspect_err(|e| tracing::info!(error = %e, "no registry answer; no incumbent to compare"))
        .ok()?
        .prod
}
