//! A TCP proxy on loopback between the tool and the test server, which a test can stall (stop
//! forwarding, sockets left open, like a hung NAT), cut (close every connection) or resume.
//! With a budget it stalls by itself once that many bytes went from the server to the tool:
//! an export through it is then held mid-way, however fast the machine, until the test acts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PASS: u8 = 0;
const STALL: u8 = 1;
const CUT: u8 = 2;
/// Forwarding after a stall, the budget no longer counted.
const RESUMED: u8 = 3;

pub struct Proxy {
    pub port: u16,
    mode: Arc<AtomicU8>,
}

/// Bytes the server may still send before the proxy stalls.
type Budget = Arc<AtomicU64>;

impl Proxy {
    /// Starts forwarding `127.0.0.1:port` (0 = any free port) to `target`, on its own thread
    /// and runtime: tests block on child processes while the proxy must keep running.
    pub fn start(port: u16, target: SocketAddr) -> Proxy {
        Proxy::start_with_budget(port, target, u64::MAX)
    }

    /// Like [`Proxy::start`], stalling once `budget` bytes went from the server to the tool.
    pub fn start_with_budget(port: u16, target: SocketAddr, budget: u64) -> Proxy {
        let mode = Arc::new(AtomicU8::new(PASS));
        let budget: Budget = Arc::new(AtomicU64::new(budget));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread_mode = mode.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
                ready_tx
                    .send(listener.local_addr().unwrap().port())
                    .unwrap();
                loop {
                    let (client, _) = listener.accept().await.unwrap();
                    let mode = thread_mode.clone();
                    let budget = budget.clone();
                    tokio::spawn(async move {
                        if let Ok(server) = TcpStream::connect(target).await {
                            forward(client, server, mode, budget).await;
                        }
                    });
                }
            });
        });
        Proxy {
            port: ready_rx.recv().unwrap(),
            mode,
        }
    }

    /// A proxy to the server of `url` that holds an export mid-way: it stalls once 1 MiB
    /// went to the tool (a few thousand rows, written to the temporary file).
    pub fn holding(url: &str) -> Proxy {
        Proxy::start_with_budget(0, server_addr(url), 1 << 20)
    }

    /// `url` with its host and port replaced by this proxy's.
    pub fn url(&self, url: &str) -> String {
        let addr = server_addr(url);
        let proxied = format!("@127.0.0.1:{}/", self.port);
        url.replace(&format!("@{}:{}/", addr.ip(), addr.port()), &proxied)
    }

    /// Stops forwarding; connections stay open and silent.
    pub fn stall(&self) {
        self.mode.store(STALL, Ordering::SeqCst);
    }

    /// Forwards again, without a budget, what was held and what comes.
    pub fn resume(&self) {
        self.mode.store(RESUMED, Ordering::SeqCst);
    }

    /// Closes every connection (new ones too).
    pub fn cut(&self) {
        self.mode.store(CUT, Ordering::SeqCst);
    }
}

async fn forward(client: TcpStream, server: TcpStream, mode: Arc<AtomicU8>, budget: Budget) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pipe(client_read, server_write, mode.clone(), None);
    let down = pipe(server_read, client_write, mode, Some(budget));
    // Either direction ending (a cut) drops both halves of both sockets.
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mode: Arc<AtomicU8>,
    budget: Option<Budget>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    // Read but not forwarded yet (held by a stall).
    let mut pending: Vec<u8> = Vec::new();
    loop {
        match mode.load(Ordering::SeqCst) {
            CUT => return,
            STALL => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
            _ => {}
        }
        if pending.is_empty() {
            let read = std::time::Duration::from_millis(50);
            match tokio::time::timeout(read, from.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => pending.extend_from_slice(&buf[..n]),
                // Nothing to read: look at the mode again.
                Err(_) => continue,
            }
        }
        let mut allowed = pending.len();
        if let Some(budget) = &budget
            && mode.load(Ordering::SeqCst) == PASS
        {
            let left = budget.load(Ordering::SeqCst);
            allowed = allowed.min(usize::try_from(left).unwrap_or(usize::MAX));
            budget.fetch_sub(allowed as u64, Ordering::SeqCst);
            if allowed < pending.len() {
                mode.store(STALL, Ordering::SeqCst);
            }
        }
        if mode.load(Ordering::SeqCst) == CUT || to.write_all(&pending[..allowed]).await.is_err() {
            return;
        }
        pending.drain(..allowed);
    }
}

/// The server address of a `postgres://user@host:port/db` URL.
pub fn server_addr(url: &str) -> SocketAddr {
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    format!("{}:{}", options.get_host(), options.get_port())
        .parse()
        .unwrap()
}
