//! The citizen link's rate limit: per client address and per token, in fixed windows, in memory
//! (bounded: at most [`MAX_KEYS`] addresses and as many tokens are tracked; each forgotten one
//! window after its first request). Tokens are tracked by their hash only.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use moka::sync::Cache;

use crate::domain::citizen_link::token_hash;

/// Most keys of each kind kept in memory.
pub const MAX_KEYS: u64 = 100_000;
/// Requests one address may make per window (every token, known or not).
pub const PER_ADDRESS: u32 = 60;
/// Requests one token may get per window (from every address).
pub const PER_TOKEN: u32 = 30;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Whether a request may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused; try again after this many seconds. `first`: the first refusal of a counter in
    /// its window (the one worth a warning in the log; a flood of refusals writes one line per
    /// window, not one per request).
    Limited {
        retry_after_secs: u64,
        first: bool,
    },
}

/// Counters of the current window per address and per token.
#[derive(Clone)]
pub struct LinkLimiter {
    addresses: Cache<String, Arc<AtomicU32>>,
    tokens: Cache<String, Arc<AtomicU32>>,
    per_address: u32,
    per_token: u32,
}

impl Default for LinkLimiter {
    fn default() -> Self {
        Self::new(PER_ADDRESS, PER_TOKEN)
    }
}

impl LinkLimiter {
    pub fn new(per_address: u32, per_token: u32) -> Self {
        let cache = || Cache::builder().max_capacity(MAX_KEYS).time_to_live(WINDOW).build();
        Self { addresses: cache(), tokens: cache(), per_address, per_token }
    }

    /// Counts a request of `client` (an IPv6 address by its /64) for `token` and says whether it
    /// may go on. Both counters
    /// count every request, so a refused address cannot keep a token's counter low. `token` is
    /// the canonical token ([`crate::domain::citizen_link::canonical_token`]); a path that names
    /// none (it opens nothing) counts against the address only.
    pub fn check(&self, client: &str, token: Option<&str>) -> Verdict {
        // The count before this request.
        let hit = |cache: &Cache<String, Arc<AtomicU32>>, key: String| {
            let counter = cache.get_with(key, || Arc::new(AtomicU32::new(0)));
            counter.fetch_add(1, Ordering::Relaxed)
        };
        // An IPv6 address by its /64, as the login throttle counts it: one host may use any
        // address of its network.
        let address = hit(&self.addresses, crate::domain::throttle::network(client));
        let token = token.map(|token| hit(&self.tokens, token_hash(token)));
        let over = address >= self.per_address || token.is_some_and(|t| t >= self.per_token);
        let first = address == self.per_address || token == Some(self.per_token);
        if over { Verdict::Limited { retry_after_secs: WINDOW.as_secs(), first } } else { Verdict::Allowed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_of_one_ipv6_network_count_as_one() {
        let limiter = LinkLimiter::new(2, 100);
        assert_eq!(limiter.check("2001:db8:1:2::1", None), Verdict::Allowed);
        assert_eq!(limiter.check("2001:db8:1:2::ffff", None), Verdict::Allowed);
        assert!(matches!(limiter.check("2001:db8:1:2:abcd::7", None), Verdict::Limited { .. }), "the same /64");
        let again = limiter.check("2001:db8:1:2::1", None);
        assert_eq!(again, Verdict::Limited { retry_after_secs: 60, first: false }, "refused again, not first");
        assert_eq!(limiter.check("2001:db8:1:3::1", None), Verdict::Allowed, "another network");
    }

    #[test]
    fn an_address_and_a_token_are_limited_separately() {
        let limiter = LinkLimiter::new(2, 2);
        assert_eq!(limiter.check("10.0.0.1", Some("a")), Verdict::Allowed);
        assert_eq!(limiter.check("10.0.0.2", Some("a")), Verdict::Allowed);
        let third = limiter.check("10.0.0.3", Some("a"));
        assert_eq!(third, Verdict::Limited { retry_after_secs: 60, first: true }, "the token's third request");
        assert_eq!(limiter.check("10.0.0.1", Some("b")), Verdict::Allowed);
        assert!(
            matches!(limiter.check("10.0.0.1", Some("c")), Verdict::Limited { .. }),
            "the address's fourth request"
        );
        assert_eq!(limiter.check("10.0.0.4", Some("d")), Verdict::Allowed);
    }
}
