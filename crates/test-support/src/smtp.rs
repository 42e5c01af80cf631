//! A small SMTP server for tests: speaks enough of RFC 5321 (EHLO/HELO, MAIL, RCPT,
//! DATA with dot-unstuffing, RSET, NOOP, QUIT) to accept mail from lettre, and keeps
//! every accepted message. It can be told to refuse recipients (550) to test
//! permanent failures.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
pub struct Mailbox {
    pub messages: Mutex<Vec<Vec<u8>>>,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    pub mailbox: Arc<Mailbox>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    /// Listens on `addr` (port 0 for any).
    pub async fn start(addr: SocketAddr, refuse_recipients: bool) -> SmtpServer {
        let listener = TcpListener::bind(addr).await.expect("bind SMTP");
        let addr = listener.local_addr().unwrap();
        let mailbox = Arc::new(Mailbox::default());
        let boxed = mailbox.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let mailbox = boxed.clone();
                tokio::spawn(async move {
                    let _ = session(stream, mailbox, refuse_recipients).await;
                });
            }
        });
        SmtpServer {
            addr,
            mailbox,
            task,
        }
    }

    pub fn messages(&self) -> Vec<Vec<u8>> {
        self.mailbox.messages.lock().unwrap().clone()
    }

    /// Stops listening (connections then get "connection refused").
    pub fn stop(self) {
        self.task.abort();
    }
}

async fn session(stream: TcpStream, mailbox: Arc<Mailbox>, refuse: bool) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 test-smtp ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "MAIL" | "RSET" | "NOOP" => b"250 OK\r\n",
            "RCPT" if refuse => b"550 5.1.1 mailbox unavailable\r\n",
            "RCPT" => b"250 OK\r\n",
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await?;
                let mut message = Vec::new();
                loop {
                    let mut data = Vec::new();
                    if lines.read_until(b'\n', &mut data).await? == 0 {
                        return Ok(());
                    }
                    if data == b".\r\n" {
                        break;
                    }
                    let unstuffed = if data.starts_with(b"..") {
                        &data[1..]
                    } else {
                        &data[..]
                    };
                    message.extend_from_slice(unstuffed);
                }
                mailbox.messages.lock().unwrap().push(message);
                b"250 2.0.0 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}
