//! Renders the nats-server configs in `infra/nats/` for the demo, the tests and operators
//! (`edgeops nats-config`). The templates are compiled in, so the binary needs no checkout.

const HUB_TEMPLATE: &str = include_str!("../../../infra/nats/hub.conf.tmpl");
const LEAF_TEMPLATE: &str = include_str!("../../../infra/nats/leaf.conf.tmpl");

/// Where a server listens and stores.
#[derive(Debug, Clone)]
pub struct Listen {
    pub host: String,
    pub client_port: u16,
    pub monitor_port: u16,
    /// MQTT listener (leaf servers only).
    pub mqtt_port: u16,
    pub store_dir: String,
    pub max_file_store: String,
}

impl Listen {
    /// Inside a container: all interfaces, standard ports, `/data`.
    pub fn container() -> Self {
        Self {
            host: "0.0.0.0".into(),
            client_port: 4222,
            monitor_port: 8222,
            mqtt_port: 1883,
            store_dir: "/data".into(),
            max_file_store: "20GB".into(),
        }
    }
}

fn fill(template: &str, pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .fold(template.to_owned(), |text, (key, value)| {
            text.replace(&format!("{{{{{key}}}}}"), value)
        })
}

pub fn hub_config(server_name: &str, listen: &Listen, leaf_port: u16) -> String {
    fill(
        HUB_TEMPLATE,
        &[
            ("server_name", server_name.to_owned()),
            ("listen_host", listen.host.clone()),
            ("client_port", listen.client_port.to_string()),
            ("monitor_port", listen.monitor_port.to_string()),
            ("store_dir", listen.store_dir.clone()),
            ("max_file_store", listen.max_file_store.clone()),
            ("leaf_port", leaf_port.to_string()),
        ],
    )
}

pub fn leaf_config(
    site: &edgeops_contracts::SiteId,
    listen: &Listen,
    hub_leaf_url: &str,
) -> String {
    fill(
        LEAF_TEMPLATE,
        &[
            ("site", site.to_string()),
            ("listen_host", listen.host.clone()),
            ("client_port", listen.client_port.to_string()),
            ("monitor_port", listen.monitor_port.to_string()),
            ("store_dir", listen.store_dir.clone()),
            ("max_file_store", listen.max_file_store.clone()),
            ("hub_leaf_url", hub_leaf_url.to_owned()),
            ("mqtt_port", listen.mqtt_port.to_string()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_configs_leave_no_placeholder() {
        let site = edgeops_contracts::SiteId::parse("s1").unwrap();
        let hub = hub_config("hub", &Listen::container(), 7422);
        let leaf = leaf_config(&site, &Listen::container(), "nats-leaf://hub:7422");
        for config in [&hub, &leaf] {
            assert!(!config.contains("{{"), "{config}");
        }
        assert!(leaf.contains("domain: \"edge-s1\""));
        assert!(leaf.contains("url: \"nats-leaf://hub:7422\""));
        assert!(hub.contains("domain: \"hub\""));
    }
}
