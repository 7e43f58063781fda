//! A misbehaving HTTP server on loopback, for what sfsim never does: endless or oversized
//! bodies, and token answers naming an instance elsewhere. One request per connection, answered
//! by a fixed reply chosen from the request line; every request line is recorded.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this JSON body and its Content-Length.
    Json(String),
    /// 200 with a chunked body that never ends (until the client hangs up).
    Endless,
    /// 200 announcing this Content-Length, then a little data and a hang-up.
    Announce(u64),
}

/// A running rogue server.
pub struct Rogue {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Request lines seen, e.g. `GET /services/data/v65.0/ HTTP/1.1`.
    pub requests: Arc<Mutex<Vec<String>>>,
    /// The accept loop, aborted on drop.
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Rogue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Rogue {
    /// Serves on `127.0.0.1:0`, answering each request with `reply(request_line)`.
    pub async fn start(reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Rogue {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let reply = Arc::new(reply);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = Arc::clone(&seen);
                let reply = Arc::clone(&reply);
                tokio::spawn(async move {
                    let _ = serve(stream, &seen, reply.as_ref()).await;
                });
            }
        });
        Rogue {
            url,
            requests,
            task,
        }
    }

    /// The request lines seen so far.
    pub fn seen(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    seen: &Mutex<Vec<String>>,
    reply: &(dyn Fn(&str) -> Reply + Send + Sync),
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let line = text.lines().next().unwrap_or_default().to_string();
    seen.lock().expect("lock").push(line.clone());
    match reply(&line) {
        Reply::Json(body) => {
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).await?;
        }
        Reply::Endless => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                      Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                )
                .await?;
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b' ', 64 * 1024));
            chunk.extend_from_slice(b"\r\n");
            loop {
                stream.write_all(&chunk).await?;
            }
        }
        Reply::Announce(length) => {
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\
                 Connection: close\r\n\r\n{{\"records\": ["
            );
            stream.write_all(answer.as_bytes()).await?;
        }
    }
    stream.shutdown().await
}
