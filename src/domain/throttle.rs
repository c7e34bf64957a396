//! The login throttle's rules: which keys an attempt counts against, how many failures in a row
//! each allows freely, and the wait that grows with every further failure.

use std::net::{IpAddr, Ipv6Addr};

use chrono::{DateTime, TimeDelta, Utc};

use super::ids::StaffId;

/// How a key throttles: `free` failures in a row pass; the `free`-th and every further one
/// locks the key, first for `first_wait`, doubling with each further failure up to `max_wait`.
/// While a key is locked no attempt is checked and a refused attempt does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub free: i32,
    pub first_wait: TimeDelta,
    pub max_wait: TimeDelta,
}

/// One login from one address (always applies).
pub const PAIR: Rule = Rule { free: 5, first_wait: TimeDelta::minutes(1), max_wait: TimeDelta::minutes(15) };
/// One login from all addresses: guessing spread over many addresses. An address where this
/// login succeeded within [`KNOWN_ADDRESS_FOR`] is exempt, so an attacker elsewhere cannot lock
/// the colleague out at their own desk.
pub const LOGIN: Rule = Rule { free: 5, first_wait: TimeDelta::minutes(1), max_wait: TimeDelta::minutes(15) };
/// One address for all logins: one password tried against many logins.
pub const ADDRESS: Rule = Rule { free: 20, first_wait: TimeDelta::minutes(1), max_wait: TimeDelta::minutes(15) };
/// One IPv6 site (a /48) for all logins: an IPv6 address counts by its /64, and one site holds
/// 65,536 of them (tunnel brokers hand out /48s for free), each with the [`ADDRESS`] key's free
/// failures; without this key those would keep the password-hashing threads busy for hours.
pub const SITE: Rule = Rule { free: 200, first_wait: TimeDelta::minutes(1), max_wait: TimeDelta::minutes(15) };

/// One browser in which a person completed a login before (its cookie names it), for that
/// person's login: such an attempt counts against this key alone, not against the address's,
/// the login's or the pair's, so that guesses from the office's shared address do not hold back
/// colleagues who logged in there before, nor guesses from elsewhere the person at their desk.
pub const DEVICE: Rule = Rule { free: 5, first_wait: TimeDelta::minutes(1), max_wait: TimeDelta::minutes(15) };

/// One person's current password, checked when they change it (through the API with a token,
/// or on the account page): a leaked token must not allow guessing the password.
pub const CURRENT_PASSWORD: Rule =
    Rule { free: 5, first_wait: TimeDelta::minutes(1), max_wait: TimeDelta::minutes(15) };

/// One person's second factor at login (the password is known by then: only the code stands
/// between a guesser and the account). Four wrong codes pass; the fifth code and each further one
/// locks, from 15 minutes doubling to a day, so a guesser gets about a dozen codes in the first
/// day and one a day after that, while a person who mistypes a few times waits 15 minutes at worst.
pub const SECOND_FACTOR: Rule = Rule { free: 5, first_wait: TimeDelta::minutes(15), max_wait: TimeDelta::hours(24) };

/// Failures in a row are forgotten after this long without an attempt.
pub const FORGET_AFTER: TimeDelta = TimeDelta::hours(24);
/// Wrong codes of a [`SECOND_FACTOR`] in a row are forgotten after this long without an attempt:
/// longer than its longest wait, so waiting out a full lock does not start the count afresh.
pub const SECOND_FACTOR_FORGET_AFTER: TimeDelta = TimeDelta::days(7);
/// How long an address where a login succeeded stays exempt from that login's [`LOGIN`] key.
pub const KNOWN_ADDRESS_FOR: TimeDelta = TimeDelta::days(30);
/// How long a browser in which a person completed a login stays known (for [`DEVICE`]) without
/// another login in it.
pub const DEVICE_KEPT_FOR: TimeDelta = TimeDelta::days(90);
/// Logins longer than this cannot exist; longer names are cut for the key.
const MAX_KEY_LOGIN_CHARS: usize = 64;

impl Rule {
    /// The wait after the `failures`-th failure in a row; `None` while failures are free.
    pub fn wait_after(&self, failures: i32) -> Option<TimeDelta> {
        let beyond = u32::try_from(failures.checked_sub(self.free)?).ok()?;
        let factor = 2_i32.checked_pow(beyond).unwrap_or(i32::MAX);
        Some(self.first_wait.checked_mul(factor).map_or(self.max_wait, |wait| wait.min(self.max_wait)))
    }

    /// The lock instants an attempt at `now` may set, one per failure count from `free` on,
    /// until the wait reaches `max_wait` (the last applies to every later failure).
    pub fn lock_steps(&self, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut steps = Vec::new();
        for failures in self.free.. {
            let wait = self.wait_after(failures).unwrap_or(self.max_wait);
            steps.push(now + wait);
            if wait >= self.max_wait {
                return steps;
            }
        }
        steps
    }
}

/// One key an attempt counts against, with its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub key: String,
    pub rule: Rule,
}

/// How logs and the record of failed logins name a login that names no account: people type
/// passwords into the login field.
pub const UNKNOWN_LOGIN: &str = "unknown";

/// The login as the throttle's keys hold it: a login that names an account (`exists`) as it is
/// (cut to the longest there can be), any other text as a hash of it, so that text typed into the
/// login field (a password, often) is not stored, while each such text still counts on its own,
/// as an existing login does (the throttle must not tell which logins exist). As an existing
/// login is found whatever the case typed, other text is hashed regardless of its (ASCII) case:
/// five failures for `nobody` hold `NOBODY` back as they hold `MUELLER` back for `mueller`.
pub fn key_login(login: &str, exists: bool) -> String {
    use sha2::{Digest, Sha256};
    if exists {
        return cut(login).to_owned();
    }
    let folded = cut(login).to_ascii_lowercase();
    let digest = Sha256::new().chain_update(b"terminbuch login throttle\0").chain_update(folded).finalize();
    format!("#{}", hex::encode(&digest[..16]))
}

/// The keys of an attempt for `login` from `address`, sorted (the order they are locked in).
/// `known_address`: this login succeeded from this address recently (no [`LOGIN`] key).
pub fn keys(login: &str, address: &str, known_address: bool) -> Vec<Key> {
    let mut keys =
        vec![Key { key: pair_key(login, address), rule: PAIR }, Key { key: address_key(address), rule: ADDRESS }];
    if let Some(site) = site_key(address) {
        keys.push(Key { key: site, rule: SITE });
    }
    if !known_address {
        keys.push(Key { key: login_key(login), rule: LOGIN });
    }
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    keys
}

/// The key of one login from one address.
pub fn pair_key(login: &str, address: &str) -> String {
    format!("pair:{} {}", network(address), cut(login))
}

/// The key of one login from everywhere.
pub fn login_key(login: &str) -> String {
    format!("login:{}", cut(login))
}

/// The key of one address for every login.
pub fn address_key(address: &str) -> String {
    format!("address:{}", network(address))
}

/// The key of one IPv6 site (the /48 of the address) for every login; `None` for IPv4 (also
/// written as IPv6) and text that is no address.
pub fn site_key(address: &str) -> Option<String> {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let site = Ipv6Addr::from(u128::from(v6) & !((1u128 << 80) - 1));
            Some(format!("site:{site}/48"))
        }
        _ => None,
    }
}

/// The keys that count every login of an address (its own, and its IPv6 site's): a success takes
/// the person's own typos off them.
pub fn shared_keys(address: &str) -> Vec<String> {
    std::iter::once(address_key(address)).chain(site_key(address)).collect()
}

/// An address as the throttle counts it: an IPv4 address alone, an IPv6 address by its /64 (one
/// subscriber's network: a host gets a whole /64 and can use any address in it), an IPv4 address
/// written as IPv6 (`::ffff:192.0.2.7`) as IPv4. Text that is no address stays as it is.
pub fn network(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let net = Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX));
                format!("{net}/64")
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// The key of one browser (by the digest of its cookie's token) in which its person logged in.
pub fn device_key(digest: &str) -> Key {
    Key { key: format!("device:{digest}"), rule: DEVICE }
}

/// The key of one person's current password, checked when they change it.
pub fn current_password_key(staff_id: StaffId) -> Key {
    Key { key: format!("password:{staff_id}"), rule: CURRENT_PASSWORD }
}

/// The key of one person's second factor, checked at login.
pub fn second_factor_key(staff_id: StaffId) -> Key {
    Key { key: format!("second_factor:{staff_id}"), rule: SECOND_FACTOR }
}

/// The whole seconds until `until` from `now`, at least one (a `Retry-After`).
pub fn retry_after_secs(until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> u64 {
    let millis = until.map_or(0, |until| (until - now).num_milliseconds());
    u64::try_from(millis).unwrap_or(0).div_ceil(1000).max(1)
}

/// `login` cut to the longest login there can be (for keys and log lines: a stranger may send
/// any length).
pub fn cut(login: &str) -> &str {
    login.char_indices().nth(MAX_KEY_LOGIN_CHARS).map_or(login, |(at, _)| &login[..at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_starts_at_the_free_limit_and_doubles_up_to_the_maximum() {
        let waits: Vec<_> = (1..=11).map(|n| PAIR.wait_after(n).map(|w| w.num_minutes())).collect();
        assert_eq!(waits, [None, None, None, None, Some(1), Some(2), Some(4), Some(8), Some(15), Some(15), Some(15)]);
        assert_eq!(PAIR.wait_after(i32::MAX), Some(TimeDelta::minutes(15)), "no overflow");
    }

    #[test]
    fn lock_steps_end_at_the_maximum() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let steps: Vec<_> = PAIR.lock_steps(now).iter().map(|at| (*at - now).num_minutes()).collect();
        assert_eq!(steps, [1, 2, 4, 8, 15]);
    }

    #[test]
    fn the_second_factors_wait_doubles_from_a_quarter_hour_to_a_day() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let steps: Vec<_> = SECOND_FACTOR.lock_steps(now).iter().map(|at| (*at - now).num_minutes()).collect();
        assert_eq!(steps, [15, 30, 60, 120, 240, 480, 960, 1440]);
        assert_eq!(SECOND_FACTOR.wait_after(4), None, "four wrong codes pass freely");
        assert!(SECOND_FACTOR_FORGET_AFTER > SECOND_FACTOR.max_wait, "a full wait does not reset the count");
        // A guesser who tries each code the moment a lock ends: how many codes in the first day.
        let mut at = TimeDelta::zero();
        let mut codes = 0;
        for failures in 1.. {
            if at > TimeDelta::hours(24) {
                break;
            }
            codes += 1;
            at += SECOND_FACTOR.wait_after(failures).unwrap_or(TimeDelta::zero());
        }
        assert_eq!(codes, 11, "a day allows a dozen codes, not hundreds");
    }

    #[test]
    fn a_known_address_is_not_counted_against_the_login_everywhere() {
        let names = |known| keys("mueller", "192.0.2.7", known).into_iter().map(|k| k.key).collect::<Vec<_>>();
        assert_eq!(names(false), ["address:192.0.2.7", "login:mueller", "pair:192.0.2.7 mueller"]);
        assert_eq!(names(true), ["address:192.0.2.7", "pair:192.0.2.7 mueller"]);
        assert_eq!(login_key(&"x".repeat(500)).len(), "login:".len() + 64, "long names are cut");
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_ipv4_alone() {
        assert_eq!(address_key("2001:db8:1:2::1"), "address:2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "address:2001:db8:1:2::/64");
        assert_ne!(address_key("2001:db8:1:3::1"), address_key("2001:db8:1:2::1"));
        assert_eq!(pair_key("mueller", "2001:db8:1:2:a:b:c:d"), "pair:2001:db8:1:2::/64 mueller");
        assert_eq!(address_key("::ffff:192.0.2.7"), "address:192.0.2.7");
        assert_eq!(address_key("192.0.2.7"), "address:192.0.2.7");
        assert_eq!(address_key("::1"), "address:::/64");
    }

    #[test]
    fn an_ipv6_address_counts_against_its_48_too_and_ipv4_against_no_site() {
        let names = |address| keys("mueller", address, true).into_iter().map(|k| k.key).collect::<Vec<_>>();
        assert_eq!(
            names("2001:db8:1:2::1"),
            ["address:2001:db8:1:2::/64", "pair:2001:db8:1:2::/64 mueller", "site:2001:db8:1::/48"]
        );
        assert_eq!(site_key("2001:db8:1:ffff:a:b:c:d"), site_key("2001:db8:1:2::1"), "one site, another /64");
        assert_ne!(site_key("2001:db8:2::1"), site_key("2001:db8:1::1"));
        assert_eq!(site_key("192.0.2.7"), None);
        assert_eq!(site_key("::ffff:192.0.2.7"), None);
        assert_eq!(shared_keys("2001:db8:1:2::1"), ["address:2001:db8:1:2::/64", "site:2001:db8:1::/48"]);
        assert_eq!(shared_keys("192.0.2.7"), ["address:192.0.2.7"]);
        const { assert!(SITE.free > ADDRESS.free, "a site holds many addresses") };
    }

    #[test]
    fn a_login_naming_no_account_is_keyed_by_a_hash_of_its_text() {
        assert_eq!(key_login("mueller", true), "mueller");
        let typed = key_login("Sommer2026!", false);
        assert!(typed.starts_with('#') && typed.len() == 33 && !typed.contains("Sommer"), "{typed}");
        assert_eq!(typed, key_login("Sommer2026!", false), "the same text counts on the same key");
        assert_ne!(typed, key_login("Winter2026!", false));
        assert_eq!(typed, key_login("SOMMER2026!", false), "found like a login: whatever its case");
        assert_eq!(key_login(&"x".repeat(500), true).len(), 64);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(retry_after_secs(Some(now + TimeDelta::milliseconds(60_001)), now), 61);
        assert_eq!(retry_after_secs(Some(now + TimeDelta::seconds(60)), now), 60);
        assert_eq!(retry_after_secs(Some(now - TimeDelta::seconds(5)), now), 1);
        assert_eq!(retry_after_secs(None, now), 1);
    }
}
