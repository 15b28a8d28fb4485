//! Which origins a connector may call, and which addresses are never reached
//! unless the operator names them by IP.

use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

/// A scheme, host (exact, `*.` wildcard or IP address) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: String,
    host: HostPattern,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// One DNS name, lower case, no trailing dot.
    Name(String),
    /// Any name strictly below this suffix (`*.example.com`).
    Below(String),
    /// One IP address, given literally by the operator.
    Ip(IpAddr),
}

/// Why a text is not an origin an operator may allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// No `scheme://`.
    #[error("`{0}` has no scheme: {FORM}")]
    NoScheme(String),
    /// Neither http nor https.
    #[error("`{0}`: only http and https are allowed")]
    Scheme(String),
    /// A path, query, fragment or user.
    #[error("`{0}` is more than an origin: {FORM}")]
    MoreThanOrigin(String),
    /// A `*` elsewhere than a leading `*.`.
    #[error("`{0}`: a wildcard may only be a leading `*.`; {FORM}")]
    Wildcard(String),
    /// Not a valid host or port.
    #[error("`{text}` is not a valid origin ({reason}): {FORM}")]
    Invalid {
        /// The origin as written.
        text: String,
        /// What the URL parser found wrong.
        reason: String,
    },
    /// No port, and none known for the scheme.
    #[error("`{0}` has no port")]
    NoPort(String),
    /// `*.com`: a wildcard over a whole top-level domain.
    #[error("`{text}`: `*.{name}` is too wide; name a domain like `*.example.com`")]
    TooWide {
        /// The origin as written.
        text: String,
        /// The name after `*.`.
        name: String,
    },
    /// `*.` before an IP address.
    #[error("`{0}`: a wildcard cannot stand before an IP address")]
    WildcardIp(String),
}

const FORM: &str = "write an origin as `https://api.example.com`, `https://*.example.com` or `http://10.0.0.5:8080`: scheme, host and optional port, nothing else";

impl OriginPattern {
    /// Parses `scheme://host[:port]`, where host may start with `*.`.
    pub fn parse(text: &str) -> Result<Self, OriginError> {
        let owned = || text.to_owned();
        let trimmed = text.trim();
        let (scheme, rest) = trimmed
            .split_once("://")
            .ok_or_else(|| OriginError::NoScheme(owned()))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(OriginError::Scheme(owned()));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(OriginError::MoreThanOrigin(owned()));
        }
        let (wildcard, rest) = match rest.strip_prefix("*.") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if rest.contains('*') {
            return Err(OriginError::Wildcard(owned()));
        }
        let url = Url::parse(&format!("{scheme}://{rest}/")).map_err(|e| OriginError::Invalid {
            text: owned(),
            reason: e.to_string(),
        })?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| OriginError::NoPort(owned()))?;
        let host = match url.host() {
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_owned();
                if wildcard {
                    if !name.contains('.') {
                        return Err(OriginError::TooWide {
                            text: owned(),
                            name,
                        });
                    }
                    HostPattern::Below(name)
                } else {
                    HostPattern::Name(name)
                }
            }
            Some(Host::Ipv4(ip)) if !wildcard => HostPattern::Ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) if !wildcard => HostPattern::Ip(IpAddr::V6(ip)),
            _ => {
                return Err(OriginError::WildcardIp(owned()));
            }
        };
        Ok(OriginPattern { scheme, host, port })
    }

    /// Whether a URL's origin matches.
    pub fn matches(&self, url: &Url) -> bool {
        if url.scheme() != self.scheme || url.port_or_known_default() != Some(self.port) {
            return false;
        }
        match (&self.host, url.host()) {
            (HostPattern::Name(name), Some(Host::Domain(d))) => d.trim_end_matches('.') == name,
            (HostPattern::Below(suffix), Some(Host::Domain(d))) => {
                let d = d.trim_end_matches('.');
                d.len() > suffix.len() + 1
                    && d.ends_with(suffix.as_str())
                    && d.as_bytes()[d.len() - suffix.len() - 1] == b'.'
            }
            (HostPattern::Ip(ip), Some(Host::Ipv4(v4))) => *ip == IpAddr::V4(v4),
            (HostPattern::Ip(ip), Some(Host::Ipv6(v6))) => *ip == IpAddr::V6(v6),
            _ => false,
        }
    }

    /// Whether every origin this pattern admits is also admitted by `wider`.
    pub fn within(&self, wider: &OriginPattern) -> bool {
        if self.scheme != wider.scheme || self.port != wider.port {
            return false;
        }
        match (&self.host, &wider.host) {
            (a, b) if a == b => true,
            (HostPattern::Name(name), HostPattern::Below(suffix))
            | (HostPattern::Below(name), HostPattern::Below(suffix)) => {
                name.len() > suffix.len() + 1
                    && name.ends_with(suffix.as_str())
                    && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
            }
            _ => false,
        }
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = if self.scheme == "https" { 443 } else { 80 };
        write!(f, "{}://", self.scheme)?;
        match &self.host {
            HostPattern::Name(n) => write!(f, "{n}")?,
            HostPattern::Below(n) => write!(f, "*.{n}")?,
            HostPattern::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
            HostPattern::Ip(ip) => write!(f, "{ip}")?,
        }
        if self.port != default {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// Why an address may not be reached through a DNS name, or `None` for a
/// public address. Only an IP literal in `allowed_hosts` reaches these.
pub fn restricted(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("a loopback address")
            } else if v4.is_unspecified() || o[0] == 0 {
                Some("an unspecified address")
            } else if o == [169, 254, 169, 254] || o == [100, 100, 100, 200] {
                Some("a cloud metadata address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if v4.is_private() {
                Some("a private-network address")
            } else if o[0] == 100 && (64..128).contains(&o[1]) {
                Some("a carrier-grade NAT address")
            } else if v4.is_broadcast() || v4.is_multicast() || o[0] >= 240 {
                Some("a broadcast, multicast or reserved address")
            } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
                Some("an IETF protocol address")
            } else if o[0] == 198 && (o[1] == 18 || o[1] == 19) {
                Some("a benchmarking address")
            } else if matches!(o[..3], [192, 0, 2] | [198, 51, 100] | [203, 0, 113]) {
                Some("a documentation address")
            } else if o[..3] == [192, 88, 99] {
                Some("a 6to4 relay address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return restricted(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("an unspecified address")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("a unique-local (private) address")
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if s[0] & 0xff00 == 0xff00 {
                Some("a multicast address")
            } else if s[0] & 0xe000 != 0x2000 {
                // Only 2000::/3 is global unicast: NAT64 (64:ff9b::/96,
                // 64:ff9b:1::/48), site-local (fec0::/10), IPv4-compatible
                // and every other range outside it are refused.
                Some("an address outside IPv6 global unicast")
            } else if s[0] == 0x2001 && s[1] < 0x0200 {
                Some("an IETF protocol address (Teredo, benchmarking, ORCHID)")
            } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000) {
                Some("a documentation address")
            } else if s[0] == 0x2002 {
                Some("a 6to4 address")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn patterns_match_scheme_host_and_port_exactly() {
        let p = OriginPattern::parse("https://api.example.com").unwrap();
        assert!(p.matches(&url("https://api.example.com/pay")));
        assert!(p.matches(&url("https://API.Example.com./pay")));
        assert!(!p.matches(&url("http://api.example.com/pay")));
        assert!(!p.matches(&url("https://api.example.com:8443/pay")));
        assert!(!p.matches(&url("https://api.example.com.evil/pay")));
        let w = OriginPattern::parse("https://*.example.com").unwrap();
        assert!(w.matches(&url("https://a.b.example.com/")));
        assert!(!w.matches(&url("https://example.com/")));
        assert!(!w.matches(&url("https://example.com.evil/")));
        assert!(!w.matches(&url("https://badexample.com/")));
    }

    #[test]
    fn ip_literals_in_every_form_are_ip_addresses() {
        let name = OriginPattern::parse("http://localhost:8080").unwrap();
        for u in [
            "http://127.0.0.1:8080/",
            "http://2130706433:8080/",
            "http://0x7f.0.0.1:8080/",
            "http://0177.0.0.1:8080/",
            "http://[::ffff:127.0.0.1]:8080/",
            "http://[::1]:8080/",
        ] {
            assert!(!name.matches(&url(u)), "{u}");
            let host = url(u).host().map(|h| h.to_owned());
            assert!(
                matches!(host, Some(Host::Ipv4(_)) | Some(Host::Ipv6(_))),
                "{u}"
            );
        }
    }

    #[test]
    fn bad_patterns_explain_the_form() {
        for bad in [
            "example.com",
            "ftp://x.com",
            "https://x.com/path",
            "https://*",
            "https://a.*.com",
            "https://*.10.0.0.1",
        ] {
            let err = OriginPattern::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn restricted_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "100.64.0.1",
            "198.18.0.1",
            "198.19.255.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "192.88.99.1",
            "64:ff9b::5db8:d822",
            "64:ff9b:1::1",
            "2002:5db8:d822::1",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "fec0::1",
            "::5db8:d822",
            "3fff::1",
        ] {
            assert!(restricted(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:4700::1111",
            "2a00:1450::1",
            "198.20.0.1",
            "::ffff:93.184.216.34",
        ] {
            assert!(restricted(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }
}
