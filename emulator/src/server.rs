//! Serving a router on a listener, over plain TCP or TLS: the accept loop, graceful shutdown, and
//! the handle ([`ConnectionControl`]) a request uses to close its connection without an answer.
//!
//! Each request carries its client's address (`ConnectInfo<SocketAddr>`) and its connection's
//! [`ConnectionControl`] as extensions. Connections speak HTTP/1.1.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How long a client has to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Closes the connection a request came on, without answering it.
#[derive(Debug, Clone)]
pub struct ConnectionControl(Arc<Notify>);

impl ConnectionControl {
    /// Asks for the connection to be closed at once: the request in flight gets no answer.
    pub fn close(&self) {
        self.0.notify_one();
    }
}

/// Serves `router` on `listener` (through `tls` when given) until `shutdown` completes, then
/// stops accepting and waits for the requests in flight.
pub async fn run<F>(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    shutdown: F,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::error!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let (router, watcher, tls) = (router.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => connection(stream, peer, router, watcher).await,
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => connection(stream, peer, router, watcher).await,
                        Ok(Err(error)) => tracing::debug!(%error, %peer, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Serves one connection until the client closes it, the server shuts down, or a request asks
/// for it to be dropped.
async fn connection<I>(io: I, peer: SocketAddr, router: Router, watcher: Watcher)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let closed = Arc::new(Notify::new());
    let control = ConnectionControl(Arc::clone(&closed));
    let service = service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(control.clone());
        router.clone().oneshot(request)
    });
    // Like axum::serve: no timer, so no header read timeout (a local emulator has no slow
    // clients to fend off) and idle keep-alive connections stay open.
    let conn = http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::select! {
        result = watcher.watch(conn) => {
            if let Err(error) = result {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        }
        () = closed.notified() => tracing::debug!(%peer, "connection dropped on purpose"),
    }
}

/// Errors that concern one connection only, after which accepting goes on at once.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
