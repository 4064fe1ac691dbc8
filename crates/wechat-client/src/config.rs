//! What every client shares: the transport, the endpoints and the clock.

use std::sync::Arc;

use bytes::Bytes;

use crate::clock::{Clock, SystemClock};
use crate::endpoints::Endpoints;
use crate::error::Error;
use crate::request::endpoint_of;
use crate::transport::HttpTransport;

/// The transport, base URLs and clock a client uses. Cheap to clone.
///
/// ```no_run
/// use std::sync::Arc;
/// use wechat_client::{ClientConfig, Endpoints, HyperTransport};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ClientConfig::new(Arc::new(HyperTransport::new()?))
///     .with_endpoints(Endpoints::single("http://127.0.0.1:8787"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientConfig {
    transport: Arc<dyn HttpTransport>,
    endpoints: Endpoints,
    clock: Arc<dyn Clock>,
}

impl ClientConfig {
    /// WeChat's hosts and the system clock over `transport`.
    pub fn new(transport: Arc<dyn HttpTransport>) -> Self {
        Self {
            transport,
            endpoints: Endpoints::wechat(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The default hyper + rustls transport, WeChat's hosts and the system clock.
    #[cfg(feature = "hyper-transport")]
    pub fn with_default_transport() -> Result<Self, crate::TransportError> {
        Ok(Self::new(Arc::new(crate::HyperTransport::new()?)))
    }

    /// Other base URLs (wechat-mock's, a proxy's).
    pub fn with_endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The base URLs.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn HttpTransport> {
        &self.transport
    }

    /// Sends `request`, naming its endpoint (the URI path) in any transport error.
    pub async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Error> {
        let endpoint = endpoint_of(&request);
        self.transport
            .send(request)
            .await
            .map_err(|source| Error::Transport { endpoint, source })
    }
}
