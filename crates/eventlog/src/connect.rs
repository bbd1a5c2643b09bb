//! Connecting to NATS the way every service does.

use std::time::Duration;

use crate::error::LogError;

/// Connect to NATS at `url` (a cluster: URLs separated by commas) as `user` with `password`
/// when given, retrying for a while: the server may still be starting or electing. Fails when
/// the server does not answer within 30 s.
pub async fn connect(
    url: &str,
    name: &str,
    user: Option<(&str, &str)>,
) -> Result<async_nats::Client, LogError> {
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
    Ok(client)
}
