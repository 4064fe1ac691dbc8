//! The ceiling: a bare hyper HTTP/1.1 server that answers every request with a fixed body after
//! reading the request body, doing no other work.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Starts the bare server on 127.0.0.1:0 and returns its address. It runs until the runtime ends.
pub async fn start(body: &'static [u8]) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(
                    move |request: http::Request<hyper::body::Incoming>| async move {
                        // Read the body like a real handler must, so the comparison is fair.
                        let _ = request.into_body().collect().await;
                        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(
                            body,
                        ))))
                    },
                );
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
}
