//! The parsers of settings given as text (flags and environment variables): each names its
//! variable in the message a wrong value gets at start-up.

use std::net::SocketAddr;

use chrono_tz::Tz;
use lettre::message::Mailbox;

use super::ExtraDays;
use crate::domain::accounts::RequireMfa;
use crate::domain::holidays::HolidayCalendar;

/// The reverse proxies whose `X-Forwarded-For` header is believed (`TERMINBUCH_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of IP addresses and CIDR ranges (empty: none).
    ///
    /// # Errors
    /// The first item that is neither.
    pub fn parse(value: &str) -> Result<Self, String> {
        let items = value.split(',').map(str::trim).filter(|item| !item.is_empty());
        items
            .map(|item| {
                item.parse::<ipnet::IpNet>()
                    .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("{item:?} is neither an IP address nor a CIDR range such as 10.0.0.0/24"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub(super) fn parse_mailbox_from(value: &str) -> Result<Mailbox, String> {
    value.parse().map_err(|err| format!("TERMINBUCH_MAIL_FROM must be `Name <address>` or an address ({err})"))
}

pub(super) fn parse_mailbox_reply_to(value: &str) -> Result<Mailbox, String> {
    value.parse().map_err(|err| format!("TERMINBUCH_MAIL_REPLY_TO must be `Name <address>` or an address ({err})"))
}

pub(super) fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| format!("TERMINBUCH_LISTEN must be host:port, e.g. 127.0.0.1:3000 (got {value:?})"))
}

pub(super) fn parse_metrics_listen(value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| format!("TERMINBUCH_METRICS_LISTEN must be host:port, e.g. 127.0.0.1:9464 (got {value:?})"))
}

/// An absolute `http://` or `https://` URL with a host (the links in emails start with it).
pub(super) fn parse_public_url(value: &str) -> Result<String, String> {
    let invalid = || {
        format!(
            "TERMINBUCH_PUBLIC_URL must be an http:// or https:// URL such as https://termine.example.org (got {value:?})"
        )
    };
    let uri: axum::http::Uri = value.parse().map_err(|_| invalid())?;
    let scheme_ok = uri.scheme_str().is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
    let host_ok = uri.host().is_some_and(|host| !host.is_empty());
    if !scheme_ok || !host_ok || uri.query().is_some() {
        return Err(invalid());
    }
    Ok(value.to_owned())
}

/// A host name or IP address, nothing else (no port, scheme or spaces: those would only show
/// up as failed deliveries).
pub(super) fn parse_smtp_host(value: &str) -> Result<String, String> {
    let name = !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|label| !label.is_empty())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if name || value.parse::<std::net::IpAddr>().is_ok() {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "TERMINBUCH_SMTP_HOST must be a host name or IP address such as mail.example.org, without port \
             (TERMINBUCH_SMTP_PORT) or scheme (got {value:?})"
        ))
    }
}

pub(super) fn parse_require_mfa(value: &str) -> Result<RequireMfa, String> {
    RequireMfa::parse(value)
        .ok_or_else(|| format!("TERMINBUCH_REQUIRE_MFA must be none, admin, lead or all (got {value:?})"))
}

pub(super) fn parse_tz(value: &str) -> Result<Tz, String> {
    value
        .parse()
        .map_err(|_| format!("TERMINBUCH_TIME_ZONE must be an IANA zone such as Europe/Berlin (got {value:?})"))
}

pub(super) fn parse_run_at(value: &str) -> Result<chrono::NaiveTime, String> {
    crate::domain::time::parse_local_time(value)
        .map_err(|_| format!("TERMINBUCH_RETENTION_RUN_AT must be a local time HH:MM (got {value:?})"))
}

pub(super) fn parse_trusted_proxies(value: &str) -> Result<TrustedProxies, String> {
    TrustedProxies::parse(value).map_err(|err| format!("TERMINBUCH_TRUSTED_PROXIES: {err}"))
}

pub(super) fn parse_extra_days(value: &str) -> Result<ExtraDays, String> {
    HolidayCalendar::parse_extra_days(value)
        .map(ExtraDays)
        .map_err(|err| format!("TERMINBUCH_EXTRA_CLOSURE_DAYS: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let proxies = TrustedProxies::parse(" 127.0.0.1, 10.20.0.0/16,::1 ").expect("valid list");
        for (ip, trusted) in [("127.0.0.1", true), ("10.20.7.9", true), ("10.21.0.1", false), ("::1", true)] {
            assert_eq!(proxies.contains(ip.parse().expect("ip")), trusted, "{ip}");
        }
        assert!(proxies.contains("::ffff:127.0.0.1".parse().expect("mapped")), "IPv4-mapped peer");
        assert!(TrustedProxies::parse("").expect("empty").is_empty());
        for bad in ["proxy.example", "10.0.0.0/33", "10.0.0.1,"] {
            let parsed = TrustedProxies::parse(bad);
            if bad.ends_with(',') {
                assert!(parsed.is_ok(), "a trailing comma is tolerated");
            } else {
                assert!(parsed.is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn the_public_url_and_the_smtp_host_are_what_links_and_connections_need() {
        for good in ["https://termine.example.org", "http://127.0.0.1:3000/", "https://stadt.example/termine"] {
            assert!(parse_public_url(good).is_ok(), "{good}");
        }
        for bad in
            ["", "termine.example.org", "ftp://x.example", "https://", "https://a b.example", "https://x.example/?a=1"]
        {
            assert!(parse_public_url(bad).is_err(), "{bad:?}");
        }
        for good in ["mail.example.org", "localhost", "127.0.0.1", "::1", "smtp_relay.intern"] {
            assert!(parse_smtp_host(good).is_ok(), "{good}");
        }
        for bad in
            ["", " ", "mail.example.org:587", "smtp://mail.example.org", "mail..example.org", "mail.example.org "]
        {
            assert!(parse_smtp_host(bad).is_err(), "{bad:?}");
        }
    }
}
