//! A minimal OTLP/HTTP receiver for tests: accepts `POST /v1/traces` and `/v1/metrics`
//! (protobuf bodies), answers 200, and keeps every body so a test can look for span and metric
//! names. Just enough HTTP/1.1 for the OpenTelemetry exporter: keep-alive, Content-Length.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One POST: its path and body.
type Post = (String, Vec<u8>);

/// Bodies received, by path.
#[derive(Clone, Default)]
pub struct Received(Arc<Mutex<Vec<Post>>>);

impl Received {
    /// Whether any body posted to `path` contains `needle` (names are plain strings in protobuf).
    pub fn contains(&self, path: &str, needle: &str) -> bool {
        let bodies = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        bodies.iter().any(|(p, body)| {
            p == path && body.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
    }

    pub fn paths(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|b| b.iter().map(|(p, _)| p.clone()).collect())
            .unwrap_or_default()
    }
}

/// Starts the receiver on a free loopback port; returns its base URL and what it receives.
pub async fn start_receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = Received::default();
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let _ = serve_connection(socket, store).await;
            });
        }
    });
    (url, received)
}

async fn serve_connection(socket: tokio::net::TcpStream, store: Received) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).await?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        if let Ok(mut bodies) = store.0.lock() {
            bodies.push((path, body));
        }
        write.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n").await?;
    }
}
