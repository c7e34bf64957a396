//! The client's address: the connecting peer, or, when the peer is a trusted reverse proxy
//! (`TERMINBUCH_TRUSTED_PROXIES`), the right-most `X-Forwarded-For` entry that is not a trusted
//! proxy itself. Everything that throttles or records an address asks this extractor.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::config::TrustedProxies;
use crate::state::AppState;

/// The client's address as text (`unknown` when the server was not told the peer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        let ip = peer.map(|peer| client_address(peer, &parts.headers, &state.settings.trusted_proxies));
        Ok(Self(ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())))
    }
}

impl ClientIp {
    /// The address, if the server was told the peer (`None` for `unknown`).
    pub fn addr(&self) -> Option<IpAddr> {
        self.0.parse().ok()
    }
}

/// The address of the client behind `peer`. A proxy appends the address it received the request
/// from to `X-Forwarded-For`, so entries are read from the right: trusted proxies are skipped,
/// the first other address is the client (anything left of it the client may have forged). An
/// entry that is not an address ends the walk at the last trusted hop.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut hop = peer.to_canonical();
    if !trusted.contains(hop) {
        return hop;
    }
    let values: Vec<&str> = headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).collect();
    for entry in values.iter().rev().flat_map(|value| value.rsplit(',')) {
        let Some(ip) = parse_entry(entry) else { return hop };
        if !trusted.contains(ip) {
            return ip;
        }
        hop = ip;
    }
    hop
}

/// An address as proxies write it: `192.0.2.7`, `2001:db8::1`, `[2001:db8::1]`, or with a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
        .map(|ip: IpAddr| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn resolve(peer: &str, forwarded: &[&str], trusted: &str) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).expect("header"));
        }
        let trusted = TrustedProxies::parse(trusted).expect("trusted list");
        client_address(peer.parse().expect("peer"), &headers, &trusted).to_string()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        assert_eq!(resolve("203.0.113.9", &["198.51.100.1"], ""), "203.0.113.9", "nobody trusted");
        assert_eq!(resolve("203.0.113.9", &["198.51.100.1"], "10.0.0.0/8"), "203.0.113.9", "peer not trusted");
        assert_eq!(resolve("10.0.0.2", &["198.51.100.1"], "10.0.0.0/8"), "198.51.100.1", "peer trusted");
        assert_eq!(resolve("10.0.0.2", &[], "10.0.0.0/8"), "10.0.0.2", "trusted peer without header");
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let trusted = "10.0.0.0/8";
        assert_eq!(resolve("10.0.0.2", &["1.1.1.1, 198.51.100.1, 10.0.0.3"], trusted), "198.51.100.1", "forged left");
        assert_eq!(resolve("10.0.0.2", &["1.1.1.1", "198.51.100.1"], trusted), "198.51.100.1", "two headers");
        assert_eq!(resolve("10.0.0.2", &["10.0.0.9, 10.0.0.3"], trusted), "10.0.0.9", "all trusted: left-most");
        assert_eq!(resolve("10.0.0.2", &["garbage, 10.0.0.3"], trusted), "10.0.0.3", "garbage: last trusted hop");
        assert_eq!(resolve("10.0.0.2", &["198.51.100.1:4711"], trusted), "198.51.100.1", "with port");
        assert_eq!(resolve("10.0.0.2", &["[2001:db8::1]:443"], trusted), "2001:db8::1", "IPv6 with port");
        assert_eq!(resolve("::ffff:10.0.0.2", &["198.51.100.1"], trusted), "198.51.100.1", "IPv4-mapped peer");
    }

    #[test]
    fn the_address_is_there_unless_the_peer_is_unknown() {
        assert_eq!(ClientIp("198.51.100.1".to_owned()).addr(), Some([198, 51, 100, 1].into()));
        assert_eq!(ClientIp("unknown".to_owned()).addr(), None);
    }
}
