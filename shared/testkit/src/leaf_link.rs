//! What crosses a site's leaf connection, from the leaf nats-server's own counters
//! (`/leafz` on its monitoring port): the bytes the site sent to the hub and received from it.
//! This is the uplink the product's byte ratio is about: everything the site sends (readings,
//! aggregates, forecasts, dead letters, events, JetStream API requests and acknowledgements),
//! not only what the gateway planned. See docs/architecture.md ("The byte ratio").

use serde::Deserialize;

/// Bytes over a site's leaf connection(s) since they were made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkBytes {
    /// Site to hub.
    pub to_hub: u64,
    /// Hub to site (models, desired state, acknowledgements, API answers).
    pub from_hub: u64,
    /// Messages each way, for the curious.
    pub to_hub_msgs: u64,
    pub from_hub_msgs: u64,
}

impl LinkBytes {
    /// Bytes sent to the hub per raw byte published at the site.
    pub fn ratio_to(&self, raw_bytes: u64) -> f64 {
        if raw_bytes == 0 {
            0.0
        } else {
            self.to_hub as f64 / raw_bytes as f64
        }
    }
}

#[derive(Deserialize)]
struct Leafz {
    #[serde(default)]
    leafs: Vec<LeafConnection>,
}

#[derive(Deserialize)]
struct LeafConnection {
    in_msgs: u64,
    out_msgs: u64,
    in_bytes: u64,
    out_bytes: u64,
}

/// Reads the leaf server's `/leafz` (`monitor_url` like `http://127.0.0.1:8223`): from the
/// leaf's side, `out` is what it sent to the hub.
pub async fn leaf_link_bytes(monitor_url: &str) -> anyhow::Result<LinkBytes> {
    let url = format!("{}/leafz", monitor_url.trim_end_matches('/'));
    let body = reqwest::get(&url)
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    parse_leafz(&body)
}

fn parse_leafz(body: &[u8]) -> anyhow::Result<LinkBytes> {
    let leafz: Leafz = serde_json::from_slice(body)?;
    Ok(leafz
        .leafs
        .iter()
        .fold(LinkBytes::default(), |sum, leaf| LinkBytes {
            to_hub: sum.to_hub + leaf.out_bytes,
            from_hub: sum.from_hub + leaf.in_bytes,
            to_hub_msgs: sum.to_hub_msgs + leaf.out_msgs,
            from_hub_msgs: sum.from_hub_msgs + leaf.in_msgs,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_leafs_counters_from_the_sites_side() {
        let body = br#"{"server_id":"X","leafnodes":1,"leafs":[{"name":"hub","account":"$G","in_msgs":3,"out_msgs":40,"in_bytes":300,"out_bytes":4000,"subscriptions":7}]}"#;
        let bytes = parse_leafz(body).unwrap();
        assert_eq!(
            bytes,
            LinkBytes {
                to_hub: 4000,
                from_hub: 300,
                to_hub_msgs: 40,
                from_hub_msgs: 3
            }
        );
        assert!((bytes.ratio_to(40_000) - 0.1).abs() < 1e-12);
        assert_eq!(
            parse_leafz(br#"{"leafnodes":0}"#).unwrap(),
            LinkBytes::default()
        );
    }
}
