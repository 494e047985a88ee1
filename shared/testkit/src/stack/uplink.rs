//! The uplink: a Docker network joining the hub and the leaves, separate from each container's
//! own network (which carries its published ports). Detaching a leaf from it cuts that site's
//! leaf link while sensors and the gateway keep talking to the leaf: an outage as a site sees it.

// A test harness: a failed step must fail the test at once, with the reason in the message.
#![allow(clippy::panic)]

use std::process::Command;

fn docker(args: &[&str]) -> Result<(), String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

pub struct Uplink {
    pub network: String,
    members: Vec<String>,
}

impl Uplink {
    pub fn create(id: &str) -> Self {
        let network = format!("edgeops-uplink-{id}");
        docker(&["network", "create", "--label", "edgeops-test=1", &network])
            .unwrap_or_else(|e| panic!("{e}"));
        Self {
            network,
            members: Vec::new(),
        }
    }

    pub fn join(&mut self, container: &str) {
        docker(&["network", "connect", &self.network, container]).unwrap_or_else(|e| panic!("{e}"));
        self.members.push(container.to_owned());
    }

    /// Cuts a container's uplink (its other network, and its published ports, stay up).
    pub fn cut(&self, container: &str) {
        docker(&["network", "disconnect", "--force", &self.network, container])
            .unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn restore(&self, container: &str) {
        docker(&["network", "connect", &self.network, container]).unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for Uplink {
    fn drop(&mut self) {
        for member in &self.members {
            let _ = docker(&["network", "disconnect", "--force", &self.network, member]);
        }
        let _ = docker(&["network", "rm", &self.network]);
    }
}
