//! A TCP proxy on loopback between the tool and the test server, which a test can stall (stop
//! forwarding, sockets left open, like a hung NAT) or cut (close every connection).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PASS: u8 = 0;
const STALL: u8 = 1;
const CUT: u8 = 2;

pub struct Proxy {
    pub port: u16,
    mode: Arc<AtomicU8>,
}

impl Proxy {
    /// Starts forwarding `127.0.0.1:port` (0 = any free port) to `target`, on its own thread
    /// and runtime: tests block on child processes while the proxy must keep running.
    pub fn start(port: u16, target: SocketAddr) -> Proxy {
        let mode = Arc::new(AtomicU8::new(PASS));
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
                    tokio::spawn(async move {
                        if let Ok(server) = TcpStream::connect(target).await {
                            forward(client, server, mode).await;
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

    /// Stops forwarding; connections stay open and silent.
    pub fn stall(&self) {
        self.mode.store(STALL, Ordering::SeqCst);
    }

    /// Closes every connection (new ones too).
    pub fn cut(&self) {
        self.mode.store(CUT, Ordering::SeqCst);
    }
}

async fn forward(client: TcpStream, server: TcpStream, mode: Arc<AtomicU8>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pipe(client_read, server_write, mode.clone());
    let down = pipe(server_read, client_write, mode);
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
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match mode.load(Ordering::SeqCst) {
            CUT => return,
            STALL => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
            _ => {}
        }
        let n =
            match tokio::time::timeout(std::time::Duration::from_millis(50), from.read(&mut buf))
                .await
            {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => n,
                // Nothing to read: look at the mode again.
                Err(_) => continue,
            };
        if mode.load(Ordering::SeqCst) == CUT || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
