//! Resident memory of the server binary before, at the peak of, and 10 s after 100 parallel
//! login attempts (each from an address and for a login of its own, so every one reaches the
//! password check), against the target for the memory left after the burst.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use futures_util::future::join_all;
use reqwest::StatusCode;

use super::{free_port, probe_client, spawn_binary, wait_ready};

/// Parallel login attempts of the burst.
pub const ATTEMPTS: usize = 100;
/// How long after the burst the memory is read.
pub const SETTLE: Duration = Duration::from_secs(10);
/// Resident memory allowed 10 s after the burst, MB (MiB).
pub const TARGET_AFTER_MB: f64 = 60.0;

/// What one burst came to.
pub struct LoginMemory {
    pub before_mb: f64,
    pub peak_mb: f64,
    pub after_mb: f64,
    /// Attempts answered with the login page (wrong password), refused with 503, other.
    pub wrong: usize,
    pub refused: usize,
    pub other: usize,
}

/// Starts the binary on `database_url` behind a "proxy" on loopback, waits 2 s after it is ready,
/// opens 100 login pages, posts 100 wrong logins at once, and reads `VmRSS` before, `VmHWM`
/// (the high-water mark: the peak) after the burst, and `VmRSS` [`SETTLE`] after it.
pub async fn measure(binary: &str, database_url: &str) -> anyhow::Result<LoginMemory> {
    let listen = free_port()?;
    let mut child = spawn_binary(binary, database_url, listen, &[("TERMINBUCH_TRUSTED_PROXIES", "127.0.0.1")])?;
    wait_ready(&probe_client()?, listen, &mut child).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = child.id().context("the binary has no pid")?;
    let before_mb = status_mb(pid, "VmRSS")?;
    let visitors = join_all((0..ATTEMPTS).map(|_| open_login_page(listen))).await;
    let visitors = visitors.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let answers = join_all(visitors.iter().enumerate().map(|(n, visitor)| attempt(listen, visitor, n))).await;
    let peak_mb = status_mb(pid, "VmHWM")?;
    tokio::time::sleep(SETTLE).await;
    let after_mb = status_mb(pid, "VmRSS")?;
    child.kill().await?;
    let count = |wanted: StatusCode| answers.iter().filter(|a| matches!(a, Ok(s) if *s == wanted)).count();
    let (wrong, refused) = (count(StatusCode::OK), count(StatusCode::SERVICE_UNAVAILABLE));
    Ok(LoginMemory { before_mb, peak_mb, after_mb, wrong, refused, other: ATTEMPTS - wrong - refused })
}

/// A visitor of the login page: a cookie-keeping client and the page's CSRF token.
struct Visitor {
    client: reqwest::Client,
    csrf: String,
}

async fn open_login_page(listen: SocketAddr) -> anyhow::Result<Visitor> {
    let client = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build()?;
    let html = client.get(format!("http://{listen}/login")).send().await?.text().await?;
    let start = html.find("name=\"csrf\" value=\"").context("no CSRF field on the login page")? + 19;
    let csrf = html[start..].split('"').next().unwrap_or_default().to_owned();
    Ok(Visitor { client, csrf })
}

/// Attempt `n`: login `bench-n` from address 10.77.n/256.n%256 with a wrong password.
async fn attempt(listen: SocketAddr, visitor: &Visitor, n: usize) -> anyhow::Result<StatusCode> {
    let login = format!("bench-{n}");
    let response = visitor
        .client
        .post(format!("http://{listen}/login"))
        .header("x-forwarded-for", format!("10.77.{}.{}", n / 256, n % 256))
        .form(&[("csrf", visitor.csrf.as_str()), ("login", login.as_str()), ("password", "falsch-falsch")])
        .send()
        .await?;
    Ok(response.status())
}

/// A `kB` line of `/proc/PID/status` in MB (MiB).
fn status_mb(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next())
        .with_context(|| format!("no {field} in /proc/PID/status"))?
        .parse()?;
    Ok(kb / 1024.0)
}
