//! A small SMTP server on loopback for the mail tests. It can be told to answer the next
//! transactions with a 4xx/5xx reply, to greet the next connection or answer the next AUTH
//! with a refusal, or to accept the next connection and never answer. Any login is accepted.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::MimeHeaders;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// What the sink does with the next connection or transaction.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Reply to the end of DATA with this line (e.g. `451 4.3.0 try later`).
    Reply(&'static str),
    /// Accept the next connection and never say anything.
    Hang,
    /// Greet the next connection with this line instead of `220` (e.g. `554 no service`).
    Greet(&'static str),
    /// Accept the next message, but only this long after the end of its DATA.
    Slow(Duration),
    /// Answer the next AUTH with this line (e.g. `535 5.7.8 authentication failed`).
    RefuseAuth(&'static str),
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
    /// Connections of a planned hang that the client still held open when this was accepted.
    pub hung_open: usize,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default().parse(self.data.as_bytes()).expect("a parsable message")
    }

    /// The `text/calendar` part of the message.
    pub fn calendar(&self) -> String {
        let message = self.parsed();
        let part = message
            .parts
            .iter()
            .find(|part| {
                part.content_type().is_some_and(|ct| {
                    ct.ctype().eq_ignore_ascii_case("text")
                        && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("calendar"))
                })
            })
            .expect("a text/calendar part");
        part.text_contents().map(str::to_owned).unwrap_or_else(|| String::from_utf8_lossy(part.contents()).into_owned())
    }

    pub fn text(&self) -> String {
        self.parsed().body_text(0).expect("a text part").into_owned()
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    refused: Vec<Received>,
    plans: VecDeque<Plan>,
    transactions: usize,
    hung_open: usize,
}

/// A loopback port bound without listening (see [`SmtpSink::hold_port`]).
pub struct HeldPort {
    socket: TcpSocket,
    pub port: u16,
}

/// The running sink; stops with the test's runtime.
#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::serve(TcpListener::bind("127.0.0.1:0").await.expect("the sink binds"))
    }

    /// Starts on a port held so far (to bring a "down" server up).
    pub fn start_held(held: HeldPort) -> Self {
        Self::serve(held.socket.listen(128).expect("the sink listens"))
    }

    fn serve(listener: TcpListener) -> Self {
        let addr = listener.local_addr().expect("a local address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = session(stream, state).await;
                });
            }
        });
        Self { addr, state }
    }

    /// A loopback port with nobody listening: connections are refused. It stays this test's
    /// while the value lives (bound, not listening), so no other test's server takes it.
    pub fn hold_port() -> HeldPort {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.bind(([127, 0, 0, 1], 0).into()).expect("binds");
        let port = socket.local_addr().expect("address").port();
        HeldPort { socket, port }
    }

    pub fn plan(&self, plan: Plan) {
        self.state.lock().expect("sink lock").plans.push_back(plan);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("sink lock").received.clone()
    }

    /// Messages whose DATA was answered with a planned refusal.
    pub fn refused(&self) -> Vec<Received> {
        self.state.lock().expect("sink lock").refused.clone()
    }

    /// Transactions that reached the end of DATA, accepted or not.
    pub fn transactions(&self) -> usize {
        self.state.lock().expect("sink lock").transactions
    }

    /// Waits until at least `n` messages arrived (or panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(tokio::time::Instant::now() < deadline, "expected {n} messages, got {}", received.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let hang = {
        let mut state = state.lock().expect("sink lock");
        matches!(state.plans.front(), Some(Plan::Hang)) && state.plans.pop_front().is_some()
    };
    if hang {
        // Say nothing until the client gives up and closes (or an hour passes).
        state.lock().expect("sink lock").hung_open += 1;
        let mut stream = stream;
        let mut buffer = [0_u8; 512];
        let _ = tokio::time::timeout(Duration::from_secs(3600), async {
            while matches!(tokio::io::AsyncReadExt::read(&mut stream, &mut buffer).await, Ok(n) if n > 0) {}
        })
        .await;
        state.lock().expect("sink lock").hung_open -= 1;
        return Ok(());
    }
    let greeting = {
        let mut state = state.lock().expect("sink lock");
        match state.plans.front() {
            Some(Plan::Greet(line)) => {
                let line = *line;
                state.plans.pop_front();
                line
            }
            _ => "220 sink.test ESMTP",
        }
    };
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(format!("{greeting}\r\n").as_bytes()).await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 20000000".into()
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            "250 OK".into()
        } else if upper.starts_with("AUTH") {
            let mut state = state.lock().expect("sink lock");
            match state.plans.front() {
                Some(Plan::RefuseAuth(line)) => {
                    let line = *line;
                    state.plans.pop_front();
                    line.into()
                }
                _ => "235 2.7.0 authenticated".into(),
            }
        } else if upper.starts_with("RSET") {
            (from, to) = (String::new(), Vec::new());
            "250 OK".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().to_owned();
            "250 OK".into()
        } else if upper.starts_with("RCPT TO:") {
            to.push(command[8..].trim().trim_start_matches('<').trim_end_matches('>').to_owned());
            "250 OK".into()
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            let delay = {
                let mut state = state.lock().expect("sink lock");
                state.transactions += 1;
                match state.plans.front() {
                    Some(Plan::Slow(delay)) => {
                        let delay = *delay;
                        state.plans.pop_front();
                        Some(delay)
                    }
                    _ => None,
                }
            };
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            let mut state = state.lock().expect("sink lock");
            let planned = match state.plans.front() {
                Some(Plan::Reply(reply)) => {
                    let reply = *reply;
                    state.plans.pop_front();
                    Some(reply)
                }
                _ => None,
            };
            let message = Received { mail_from: from.clone(), rcpt_to: to.clone(), data, hung_open: state.hung_open };
            let reply = match planned {
                Some(reply) => {
                    state.refused.push(message);
                    reply.to_owned()
                }
                None => {
                    state.received.push(message);
                    "250 OK queued".into()
                }
            };
            (from, to) = (String::new(), Vec::new());
            reply
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            "502 not implemented".into()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}
