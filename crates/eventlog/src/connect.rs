//! Connecting to NATS the way every service does.

use std::time::Duration;

use async_nats::jetstream;

use crate::error::LogError;

/// Connect to NATS at `url` (a cluster: URLs separated by commas) as `user` with `password`
/// when given, retrying for a while: the server may still be starting or electing. Fails when
/// the server does not answer within 30 s.
pub async fn connect(
    url: &str,
    name: &str,
    user: Option<(&str, &str)>,
) -> Result<Connection, LogError> {
    let mut opts = async_nats::ConnectOptions::new();
    if let Some((user, password)) = user {
        opts = async_nats::ConnectOptions::with_user_and_password(user.into(), password.into());
    }
    let opts = opts
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5));
    let servers = url
        .split(',')
        .map(|u| u.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LogError::unavailable("reading the NATS url", e))?;
    let client = opts
        .connect(servers)
        .await
        .map_err(|e| LogError::unavailable("connecting to NATS", e))?;
    tokio::time::timeout(Duration::from_secs(30), client.flush())
        .await
        .map_err(|e| LogError::unavailable("waiting 30 s for NATS to answer", e))?
        .map_err(|e| LogError::unavailable("waiting for NATS to answer", e))?;
    Ok(Connection::from(client))
}

/// A connection to the county's NATS: what services hold and hand to the adapter's stores.
/// Crates above the adapter name this type, never the NATS client inside it (a tidy rule).
#[derive(Clone)]
pub struct Connection {
    client: async_nats::Client,
    js: jetstream::Context,
}

impl Connection {
    /// The JetStream context inside (for the crates allowed to speak NATS themselves: log
    /// maintenance, the watchdog, the bench's raw baselines, the test kit and tests).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// The core NATS client inside (same crates as [`Connection::jetstream`]).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Wait until the server has taken everything published so far.
    pub async fn flush(&self) -> Result<(), LogError> {
        self.client
            .flush()
            .await
            .map_err(|e| LogError::unavailable("flushing to NATS", e))
    }
}

impl From<async_nats::Client> for Connection {
    fn from(client: async_nats::Client) -> Self {
        let js = jetstream::new(client.clone());
        Connection { client, js }
    }
}

impl From<&jetstream::Context> for Connection {
    fn from(js: &jetstream::Context) -> Self {
        Connection::from(js.clone())
    }
}

impl From<jetstream::Context> for Connection {
    fn from(js: jetstream::Context) -> Self {
        Connection {
            client: js.client(),
            js,
        }
    }
}

/// The client inside, for the crates allowed to speak NATS (the watchdog of `ops`).
impl From<Connection> for async_nats::Client {
    fn from(nats: Connection) -> Self {
        nats.client
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}
