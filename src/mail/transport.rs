//! Where messages go: an SMTP server (lettre's async connection, one per message, with
//! connection, command and whole-conversation timeouts), or, with no server configured, `.eml`
//! files under `DATA_DIR/mail/`.

use std::path::PathBuf;
use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use super::MailError;
use crate::config::{MailSettings, SmtpSecurity};

/// How a delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying: connection refused, timeout, 4xx reply.
    Transient(String),
    /// The server refused something that concerns every message, not this one (a 5xx reply to
    /// the greeting, EHLO, STARTTLS or AUTH, or "authentication required"): the setup needs
    /// fixing, and the message is retried meanwhile.
    Setup(String),
    /// The server refused this message for good (5xx to MAIL FROM, RCPT TO or DATA): its reply.
    Permanent(String),
}

/// The configured way out.
#[derive(Clone)]
pub enum Transport {
    Smtp(Box<SmtpServer>),
    Files(PathBuf),
}

/// An SMTP server and how to talk to it.
#[derive(Clone)]
pub struct SmtpServer {
    host: String,
    port: u16,
    security: SmtpSecurity,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    /// Bounds the whole conversation: lettre's timeout bounds connecting and each command, but
    /// not waiting for the greeting.
    deadline: Duration,
}

/// Where in the conversation a reply came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Connecting, greeting, EHLO, STARTTLS.
    Connect,
    Auth,
    /// MAIL FROM, RCPT TO, DATA.
    Message,
}

impl Transport {
    /// Builds the transport the settings describe (no connection is made yet).
    ///
    /// # Errors
    /// `MailError::Config` naming the variable at fault.
    pub fn from_settings(mail: &MailSettings, data_dir: &std::path::Path) -> Result<Self, MailError> {
        mail.validate().map_err(MailError::Config)?;
        let Some(host) = mail.smtp_host.as_deref() else {
            let dir = data_dir.join("mail");
            check_writable(&dir).map_err(|err| {
                MailError::Config(format!(
                    "TERMINBUCH_DATA_DIR={:?}: emails cannot be written to {} ({err}); without \
                     TERMINBUCH_SMTP_HOST every email is written there",
                    data_dir.display().to_string(),
                    dir.display()
                ))
            })?;
            return Ok(Self::Files(dir));
        };
        let timeout = Duration::from_secs(u64::from(mail.smtp_timeout_secs));
        let tls = match mail.smtp_security {
            SmtpSecurity::None => None,
            SmtpSecurity::Starttls | SmtpSecurity::Tls => Some(TlsParameters::new(host.to_owned()).map_err(|err| {
                MailError::Config(format!("TERMINBUCH_SMTP_HOST={host:?}: cannot set up TLS: {err}"))
            })?),
        };
        let default_port = match mail.smtp_security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        };
        let credentials = match (&mail.smtp_user, &mail.smtp_password) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password.clone())),
            _ => None,
        };
        // No connection pool: each message has its own connection, so a server that hangs on
        // one cannot hold up the others.
        Ok(Self::Smtp(Box::new(SmtpServer {
            host: host.to_owned(),
            port: mail.smtp_port.unwrap_or(default_port),
            security: mail.smtp_security,
            tls,
            credentials,
            hello: ClientId::default(),
            timeout,
            deadline: timeout * 3,
        })))
    }

    /// Whether messages only go to files.
    pub fn is_files(&self) -> bool {
        matches!(self, Self::Files(_))
    }

    /// Delivers one message; `file_stem` names the `.eml` file in file mode.
    ///
    /// # Errors
    /// [`SendError`] saying whether a retry makes sense.
    pub async fn send(&self, message: &Message, file_stem: &str) -> Result<(), SendError> {
        match self {
            Self::Smtp(server) => match tokio::time::timeout(server.deadline, server.send(message)).await {
                Ok(result) => result,
                Err(_) => {
                    Err(SendError::Transient(format!("no answer from the mail server within {:?}", server.deadline)))
                }
            },
            Self::Files(dir) => write_private(dir, &format!("{file_stem}.eml"), &message.formatted())
                .await
                .map_err(|err| SendError::Transient(format!("cannot write to {}: {err}", dir.display()))),
        }
    }

    /// Removes the `.eml` file of `file_stem` in file mode (an email whose booking was erased
    /// while it was being written); nothing else.
    pub async fn discard(&self, file_stem: &str) {
        if let Self::Files(dir) = self {
            match tokio::fs::remove_file(dir.join(format!("{file_stem}.eml"))).await {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    tracing::error!(email = file_stem, error = %err, "cannot remove the .eml file of an erased email")
                }
            }
        }
    }
}

/// Creates `dir` as [`write_private`] does and writes and removes a file in it: a folder that
/// cannot take the `.eml` files stops the start instead of failing every email for two days.
/// A folder that other local users may enter, as earlier releases made it, loses their
/// permissions, so that the `.eml` files in it (some written with the umask's modes) are closed
/// to them too.
fn check_writable(dir: &std::path::Path) -> std::io::Result<()> {
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        folder.mode(0o700);
    }
    folder.create(dir)?;
    crate::privacy_fs::deny_others(dir);
    let probe = dir.join(format!(".write-check-{}", uuid::Uuid::now_v7().simple()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    std::fs::remove_file(&probe)
}

/// Writes `name` in `dir` readable by the service's user only (mode 0600, the folder 0700 when
/// it is created): an email holds a citizen's address and appointment. The name is the outbox
/// id, never the unit's or the citizen's.
async fn write_private(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut folder = tokio::fs::DirBuilder::new();
    folder.recursive(true);
    let mut file = tokio::fs::OpenOptions::new();
    file.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        folder.mode(0o700);
        file.mode(0o600);
    }
    folder.create(dir).await?;
    let mut file = file.open(dir.join(name)).await?;
    file.write_all(bytes).await?;
    file.sync_all().await
}

impl SmtpServer {
    /// One conversation: connect (greeting, EHLO, STARTTLS), log in, send, quit. Each step is
    /// a call of its own, so a refusal is known to concern the setup or this message.
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let wrapper = match self.security {
            SmtpSecurity::Tls => self.tls.clone(),
            SmtpSecurity::Starttls | SmtpSecurity::None => None,
        };
        let server = (self.host.as_str(), self.port);
        let connected = match wrapper {
            // Implicit TLS: lettre's own connection (its TLS needs the stream it opened), which
            // leaves Nagle's algorithm on; see `connect_without_delay` for what that costs.
            Some(tls) => {
                AsyncSmtpConnection::connect_tokio1(server, Some(self.timeout), &self.hello, Some(tls), None).await
            }
            None => {
                let stream = self.connect_without_delay().await?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello).await
            }
        };
        let mut conn = connected.map_err(|err| classify(Stage::Connect, &err))?;
        if let (SmtpSecurity::Starttls, Some(tls)) = (self.security, &self.tls) {
            conn.starttls(tls.clone(), &self.hello).await.map_err(|err| classify(Stage::Connect, &err))?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await.map_err(|err| classify(Stage::Auth, &err))?;
        }
        let sent = conn.send(message.envelope(), &message.formatted()).await;
        // As lettre's own transport does without a pool: QUIT and close, whatever the outcome.
        conn.abort().await;
        sent.map(drop).map_err(|err| classify(Stage::Message, &err))
    }

    /// The TCP connection of a plain or STARTTLS conversation, with `TCP_NODELAY`. lettre 0.11.23
    /// leaves Nagle's algorithm on and writes a message's body and its closing `.` separately, so
    /// the `.` waited for the server's acknowledgement of the body, which Linux delays by 40 ms:
    /// about 40 ms of every delivery (BENCHMARKS.md, "Emails"). Tried in the order the name
    /// resolves to, within the command timeout.
    async fn connect_without_delay(&self) -> Result<tokio::net::TcpStream, SendError> {
        // Worded as lettre words its own connection errors.
        let failed = |reason: &dyn std::fmt::Display| SendError::Transient(format!("Connection error: {reason}"));
        let connect = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
        let stream = tokio::time::timeout(self.timeout, connect)
            .await
            .map_err(|_| failed(&"connection timed out"))?
            .map_err(|err| failed(&err))?;
        stream.set_nodelay(true).map_err(|err| failed(&err))?;
        Ok(stream)
    }
}

/// Retry or give up, by where the failure came and the reply code.
fn classify(stage: Stage, err: &SmtpError) -> SendError {
    let code = err.status().map(u16::from);
    let setup = match stage {
        Stage::Connect | Stage::Auth => err.is_permanent(),
        // "Authentication required" in reply to MAIL FROM: a missing login, not this message.
        // A refusal by policy (enhanced status 5.7.x: "relay access denied", "sender not
        // authorised") says the service may not send through this server at all: every email
        // would fail alike until the settings are fixed, not just this one.
        Stage::Message => code == Some(530) || (err.is_permanent() && policy_refusal(&err.to_string())),
    };
    let step = match stage {
        Stage::Connect => "the greeting, EHLO or STARTTLS",
        Stage::Auth => "AUTH",
        Stage::Message if code == Some(530) => "MAIL FROM",
        Stage::Message => "the message (MAIL FROM, RCPT TO or DATA) by policy",
    };
    if setup {
        SendError::Setup(format!("mail server refused {step} (check the TERMINBUCH_SMTP_* settings): {err}"))
    } else if err.is_permanent() {
        SendError::Permanent(err.to_string())
    } else {
        SendError::Transient(err.to_string())
    }
}

/// Whether a reply carries an enhanced status code of class 5.7 (security or policy, RFC 3463).
fn policy_refusal(reply: &str) -> bool {
    reply.split_whitespace().any(|word| word.starts_with("5.7.") && word[4..].chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_refusal_is_told_by_its_enhanced_status_code() {
        assert!(policy_refusal("permanent error (554): 5.7.1 <ayse@example.org>: Relay access denied"));
        assert!(policy_refusal("permanent error (550): 5.7.1 sender not authorised"));
        assert!(!policy_refusal("permanent error (550): 5.1.1 no such mailbox"));
        assert!(!policy_refusal("permanent error (554): transaction failed 15.7.1x"));
    }

    fn plain_server(port: u16) -> SmtpServer {
        SmtpServer {
            host: "127.0.0.1".to_owned(),
            port,
            security: SmtpSecurity::None,
            tls: None,
            credentials: None,
            hello: ClientId::default(),
            timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(15),
        }
    }

    /// Without `TCP_NODELAY` every delivery waits about 40 ms for a delayed acknowledgement.
    #[tokio::test]
    async fn a_plain_or_starttls_connection_leaves_nagles_algorithm_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = plain_server(port).connect_without_delay().await.unwrap();
        assert!(stream.nodelay().unwrap());
    }

    /// A mail server that is down is worth a retry, and the reason says so.
    #[tokio::test]
    async fn a_server_that_refuses_the_connection_is_retried_later() {
        // Bound but not listening: refused, and no other test's server can take the port.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
        let port = socket.local_addr().unwrap().port();
        let message = Message::builder()
            .from("terminbuch@example.org".parse().unwrap())
            .to("citizen@example.org".parse().unwrap())
            .subject("Termin")
            .body(String::from("Termin"))
            .unwrap();
        match plain_server(port).send(&message).await {
            Err(SendError::Transient(reason)) => assert!(reason.starts_with("Connection error"), "{reason}"),
            other => panic!("expected a transient connection error, got {other:?}"),
        }
    }
}
