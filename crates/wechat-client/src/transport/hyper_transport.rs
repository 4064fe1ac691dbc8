use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{HttpTransport, TransportError, TransportErrorKind};

/// The default transport: hyper 1 with a pooled HTTP/1.1 keep-alive client and rustls (webpki
/// roots), with connect and total timeouts and a response size limit.
///
/// ```
/// use std::time::Duration;
/// use wechat_client::HyperTransport;
///
/// let transport = HyperTransport::builder()
///     .connect_timeout(Duration::from_secs(3))
///     .timeout(Duration::from_secs(10))
///     .max_response_bytes(1 << 20)
///     .build()?;
/// # drop(transport);
/// # Ok::<(), wechat_client::TransportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct HyperTransport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    max_response_bytes: usize,
}

/// Builds a [`HyperTransport`].
#[derive(Debug, Clone)]
pub struct HyperTransportBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    max_response_bytes: usize,
    pool_idle_timeout: Duration,
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            // WeChat's JSON answers are small; 4 MiB leaves room for menus and user lists.
            max_response_bytes: 4 << 20,
            pool_idle_timeout: Duration::from_secs(60),
        }
    }
}

impl HyperTransportBuilder {
    /// How long connecting (TCP and TLS) may take. Default 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a whole call may take, from connect to the last body byte. Default 15 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response body accepted. Default 4 MiB.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// How long an idle pooled connection is kept. Default 60 s.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Builds the transport. Fails only if the TLS configuration cannot be made.
    pub fn build(self) -> Result<HyperTransport, TransportError> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        http.enforce_http(false);
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::new(TransportErrorKind::Request, e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .build(https);
        Ok(HyperTransport {
            client,
            timeout: self.timeout,
            max_response_bytes: self.max_response_bytes,
        })
    }
}

impl HyperTransport {
    /// A transport with the default settings.
    pub fn new() -> Result<Self, TransportError> {
        Self::builder().build()
    }

    /// A builder to change timeouts and limits.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }
}

#[async_trait]
impl HttpTransport for HyperTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(body));
        let limit = self.max_response_bytes;
        let call = async {
            let response = self.client.request(request).await.map_err(|e| {
                let kind = if e.is_connect() {
                    TransportErrorKind::Connect
                } else {
                    TransportErrorKind::Request
                };
                TransportError::new(kind, e)
            })?;
            let (parts, body) = response.into_parts();
            let collected = Limited::new(body, limit).collect().await.map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    TransportError::new(TransportErrorKind::BodyTooLarge, e)
                } else {
                    TransportError::new(TransportErrorKind::Other, e)
                }
            })?;
            Ok(http::Response::from_parts(parts, collected.to_bytes()))
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|elapsed| TransportError::new(TransportErrorKind::Timeout, elapsed))?
    }
}
