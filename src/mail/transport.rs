//! Where messages go: an SMTP server (lettre's async transport with connection, command and
//! pool timeouts), or, with no server configured, `.eml` files under `DATA_DIR/mail/`.

use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::MailError;
use crate::config::{MailSettings, SmtpSecurity};

/// How a delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying: connection refused, timeout, 4xx reply.
    Transient(String),
    /// The server refused for good (5xx): its reply.
    Permanent(String),
}

/// The configured way out.
#[derive(Clone)]
pub enum Transport {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, deadline: Duration },
    Files(PathBuf),
}

impl Transport {
    /// Builds the transport the settings describe (no connection is made yet).
    ///
    /// # Errors
    /// `MailError::Config` naming the variable at fault.
    pub fn from_settings(mail: &MailSettings, data_dir: &std::path::Path) -> Result<Self, MailError> {
        mail.validate().map_err(MailError::Config)?;
        let Some(host) = mail.smtp_host.as_deref() else {
            return Ok(Self::Files(data_dir.join("mail")));
        };
        let timeout = Duration::from_secs(u64::from(mail.smtp_timeout_secs));
        let tls_error = |err: lettre::transport::smtp::Error| {
            MailError::Config(format!("TERMINBUCH_SMTP_HOST={host:?}: cannot set up TLS: {err}"))
        };
        let (builder, default_port) = match mail.smtp_security {
            SmtpSecurity::Starttls => {
                (AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls_error)?, 587)
            }
            SmtpSecurity::Tls => (AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?, 465),
            SmtpSecurity::None => (AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host), 25),
        };
        // No connection pool (lettre's "pool" feature is off): each message has its own
        // connection, so a server that hangs on one cannot hold up the others.
        let mut builder = builder.port(mail.smtp_port.unwrap_or(default_port)).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&mail.smtp_user, &mail.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        // lettre's timeout bounds connecting and each command, but not waiting for the greeting;
        // this bounds the whole conversation.
        Ok(Self::Smtp { transport: builder.build(), deadline: timeout * 3 })
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
            Self::Smtp { transport, deadline } => {
                match tokio::time::timeout(*deadline, transport.send(message.clone())).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(err)) if err.is_permanent() => Err(SendError::Permanent(err.to_string())),
                    Ok(Err(err)) => Err(SendError::Transient(err.to_string())),
                    Err(_) => Err(SendError::Transient(format!("no answer from the mail server within {deadline:?}"))),
                }
            }
            Self::Files(dir) => {
                let write = async {
                    tokio::fs::create_dir_all(dir).await?;
                    tokio::fs::write(dir.join(format!("{file_stem}.eml")), message.formatted()).await
                };
                write.await.map_err(|err| SendError::Transient(format!("cannot write to {}: {err}", dir.display())))
            }
        }
    }
}
