//! Password hashing (argon2id) on a few dedicated threads, one per core, each reusing its own
//! argon2 memory during a burst and giving it back when idle. At most that many hashes run at
//! once; an attempt waits [`WAIT`] for a free thread and is then refused with
//! [`ServiceError::Overloaded`] (a 503 with `Retry-After`).
//!
//! Why memory stayed taken before: argon2 needs m_cost KiB per hash (19 MiB). Hashed on tokio's
//! blocking pool (up to 512 threads) with argon2's own allocation, 100 parallel logins took
//! 100 × 19 MiB at once, and glibc kept most of it: it serves a block above its mmap threshold
//! (128 KiB at first) with mmap and unmaps it when freed, but then raises the threshold to that
//! block's size (dynamically, up to 32 MiB on 64-bit), so later 19 MiB blocks came from the
//! arenas of the many threads, which are trimmed only when their free top exceeds twice the
//! threshold: the memory stayed with the process. Here each thread's memory is reserved with
//! more than 32 MiB of capacity (untouched pages take no memory), so it is always mapped and
//! unmapped directly and never moves the threshold, and it is dropped [`LINGER`] after the last
//! hash of a burst.

use std::num::NonZero;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use super::ServiceError;

/// How long an attempt waits for a free hashing thread before it is refused.
pub const WAIT: Duration = Duration::from_secs(2);
/// What a refused attempt is told to wait (`Retry-After`, seconds).
pub const RETRY_AFTER_SECS: u64 = 2;
/// Memory of new hashes in KiB (argon2's default, 19 MiB, with two passes: OWASP's choice).
const M_COST: u32 = Params::DEFAULT_M_COST;
const T_COST: u32 = Params::DEFAULT_T_COST;
/// Stored hashes asking for more memory than this (KiB) are not checked.
const MAX_M_COST: u32 = 256 * 1024;
/// How long a hashing thread keeps its memory after its last hash.
pub const LINGER: Duration = Duration::from_secs(1);
/// Blocks (1 KiB) reserved at least for a thread's memory: above glibc's largest dynamic mmap
/// threshold (32 MiB on 64-bit), so the memory is mapped on its own and unmapped when dropped.
const ALWAYS_MAPPED_BLOCKS: usize = 32 * 1024 + 64;

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

struct Pool {
    jobs: Sender<Job>,
    permits: Arc<Semaphore>,
}

/// The process's hashing threads, started at the first hash.
static POOL: LazyLock<Pool> = LazyLock::new(|| Pool::start(threads()));

/// How many hashes run at once: one per core.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, NonZero::get).clamp(1, 16)
}

impl Pool {
    fn start(threads: usize) -> Self {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        for index in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{index}")).spawn(move || work(&queue));
            if let Err(err) = spawned {
                tracing::error!(error = ?err, "a password hashing thread could not be started");
            }
        }
        Self { jobs, permits: Arc::new(Semaphore::new(threads)) }
    }
}

/// A free hashing thread, held until a hash runs on it (or the slot is dropped).
pub struct Slot(tokio::sync::OwnedSemaphorePermit);

/// Waits for a free hashing thread: up to `wait`, or as long as it takes with `None`.
///
/// # Errors
/// `Overloaded` when none became free within `wait`.
pub async fn slot(wait: Option<Duration>) -> Result<Slot, ServiceError> {
    let permits = Arc::clone(&POOL.permits);
    let permit = match wait {
        Some(wait) => tokio::time::timeout(wait, permits.acquire_owned()).await.ok(),
        None => Some(permits.acquire_owned().await),
    };
    match permit {
        Some(Ok(permit)) => Ok(Slot(permit)),
        _ => Err(ServiceError::Overloaded { retry_after_secs: RETRY_AFTER_SECS }),
    }
}

impl Slot {
    /// Runs `job` on a hashing thread with that thread's memory.
    async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let permit = self.0;
        // The slot goes with the job: a request given up by its client still holds its thread
        // until the hash is done, so the bound counts what really runs.
        let job: Job = Box::new(move |memory| {
            let _ = done.send(job(memory));
            drop(permit);
        });
        POOL.jobs.send(job).map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())
    }

    /// Hashes `password` with argon2id, a random salt and the current parameters (a PHC string).
    ///
    /// # Errors
    /// `Invalid` when hashing fails.
    pub async fn hash(self, password: &str) -> Result<String, ServiceError> {
        let password = password.to_owned();
        let salt: [u8; 16] = rand::random();
        self.run(move |memory| hash_with(memory, password.as_bytes(), &salt)).await?
    }

    /// Whether `password` matches the stored PHC string (a malformed one matches nothing).
    ///
    /// # Errors
    /// Only when the hashing threads are gone.
    pub async fn verify(self, password: &str, stored: &str) -> Result<bool, ServiceError> {
        let password = password.to_owned();
        let stored = stored.to_owned();
        self.run(move |memory| verify_with(memory, password.as_bytes(), &stored)).await
    }
}

fn stopped() -> ServiceError {
    ServiceError::Store(crate::store::StoreError::Io("the password hashing thread stopped".to_owned()))
}

fn work(queue: &Receiver<Job>) {
    let mut memory = Vec::new();
    loop {
        let job = match queue.recv_timeout(LINGER) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                // Idle: the memory goes back to the system (see the module's notes).
                memory = Vec::new();
                match queue.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // A panicking hash (none is known) loses its answer, not the thread.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory))).is_err() {
            tracing::error!("a password hash panicked");
        }
    }
}

/// Hashes `password` for storing: waits at most [`WAIT`] for a free thread.
///
/// # Errors
/// `Overloaded` when no hashing thread became free in time; `Invalid` when hashing fails.
pub async fn hash(password: &str) -> Result<String, ServiceError> {
    slot(Some(WAIT)).await?.hash(password).await
}

/// Checks `password` against a stored hash (a login): waits at most [`WAIT`] for a free thread.
///
/// # Errors
/// `Overloaded` when no hashing thread became free in time.
pub async fn verify(password: &str, stored: &str) -> Result<bool, ServiceError> {
    slot(Some(WAIT)).await?.verify(password, stored).await
}

fn current_params() -> Result<Params, argon2::Error> {
    Params::new(M_COST, T_COST, 1, Some(Params::DEFAULT_OUTPUT_LEN))
}

fn hash_with(memory: &mut Vec<Block>, password: &[u8], salt: &[u8]) -> Result<String, ServiceError> {
    let invalid = |err: &dyn std::fmt::Display| ServiceError::invalid("password", err.to_string());
    let params = current_params().map_err(|err| invalid(&err))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password, salt, &mut out, blocks(memory, &params))
        .map_err(|e| invalid(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|err| invalid(&err))?,
        salt: Some(Salt::new(salt).map_err(|err| invalid(&err))?),
        hash: Some(Output::new(&out).map_err(|err| invalid(&err))?),
    };
    Ok(phc.to_string())
}

fn verify_with(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(phc.algorithm.as_str()), Params::try_from(&phc)) else {
        return false;
    };
    let version = phc.version.map_or(Ok(Version::default()), Version::try_from);
    let (Ok(version), true) = (version, params.m_cost() <= MAX_M_COST) else {
        tracing::error!("a stored password hash has unusable parameters");
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    if argon2.hash_password_into_with_memory(password, salt, &mut out, blocks(memory, &params)).is_err() {
        return false;
    }
    // `Output` compares in constant time.
    Output::new(&out).is_ok_and(|computed| &computed == expected)
}

/// The first `params.block_count()` blocks of `memory`, grown to the size needed (with at least
/// [`ALWAYS_MAPPED_BLOCKS`] of capacity, so the allocation is always a mapping of its own).
fn blocks<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let needed = params.block_count();
    if memory.capacity() < needed {
        *memory = Vec::with_capacity(needed.max(ALWAYS_MAPPED_BLOCKS));
    }
    if memory.len() < needed {
        memory.resize(needed, Block::new());
    }
    &mut memory[..needed]
}

#[cfg(test)]
mod tests {
    use argon2::PasswordVerifier;

    use super::*;

    #[tokio::test]
    async fn hashes_verify_with_argon2s_own_verifier_and_old_hashes_verify_here() {
        let hash = hash("korrekt pferd batterie").await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        let parsed = PasswordHash::new(&hash).expect("a PHC string");
        assert!(Argon2::default().verify_password(b"korrekt pferd batterie", &parsed).is_ok());
        assert!(verify("korrekt pferd batterie", &hash).await.expect("verify"));
        assert!(!verify("falsch", &hash).await.expect("verify"));
        assert!(!verify("x", "not a hash").await.expect("verify"));
        // A hash as the previous release stored it (argon2's `PasswordHasher`, other parameters).
        let params = Params::new(8 * 1024, 1, 1, None).expect("params");
        let old = argon2::PasswordHasher::hash_password_with_salt(
            &Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            b"altes passwort",
            b"saltsaltsalt",
        )
        .expect("old hash")
        .to_string();
        assert!(verify("altes passwort", &old).await.expect("verify"));
        assert!(!verify("neues passwort", &old).await.expect("verify"));
    }
}
