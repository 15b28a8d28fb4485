//! The DNS guard: the shared HTTP client, whose resolver refuses any name
//! that reaches a loopback, private, link-local or metadata address, and the
//! same check for the lookup made before a request is sent.

use crate::policy::allowlist::restricted;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Builds the one HTTP client the host shares between all connectors.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver))
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("payhost/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client's fixed configuration is valid")
}

/// Resolves names and refuses any that reaches a restricted address.
struct GuardedResolver;

/// The error [`GuardedResolver`] gives for a restricted address.
#[derive(Debug, thiserror::Error)]
#[error("{name} resolves to {ip}, {why}; name the IP address in allowed_hosts to allow it")]
pub(super) struct RestrictedAddress {
    name: String,
    ip: std::net::IpAddr,
    why: &'static str,
}

pub(super) async fn resolve_checked(
    name: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    // `example.com.` is `example.com`, as the allowlist matched it.
    let name = name.trim_end_matches('.');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port)).await?.collect();
    for addr in &addrs {
        if let Some(why) = restricted(addr.ip()) {
            return Err(Box::new(RestrictedAddress {
                name: name.to_owned(),
                ip: addr.ip(),
                why,
            }));
        }
    }
    if addrs.is_empty() {
        return Err(format!("{name} has no address").into());
    }
    Ok(addrs)
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_checked(&name, 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve as _;
    use std::str::FromStr as _;

    #[tokio::test]
    async fn the_clients_own_resolver_refuses_restricted_addresses() {
        // The check at connect time, apart from the one before sending: a
        // name that resolved to a public address a moment ago cannot be
        // rebound to a private one in between.
        for name in ["localhost", "127.0.0.1"] {
            let resolved = GuardedResolver
                .resolve(reqwest::dns::Name::from_str(name).unwrap())
                .await;
            let error = resolved.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("a loopback address"), "{name}: {error}");
        }
    }
}
