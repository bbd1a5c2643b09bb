//! How a service stops: on SIGTERM, on SIGINT (Ctrl-C), or when the `xinfang up` that supervises
//! it is gone.

use std::time::Duration;

/// The variable `up` sets in each child's environment: its own process id.
pub const PARENT_PID: &str = "XF_PARENT_PID";

/// Resolves when the supervising `xinfang up` is gone: `up` sets [`PARENT_PID`], and a child whose
/// parent died (even by SIGKILL, which gives `up` no chance to stop it) is re-parented, so its
/// parent pid changes. Never resolves for a service started on its own.
async fn parent_gone() {
    let Some(expected) = std::env::var(PARENT_PID)
        .ok()
        .and_then(|p| p.parse::<i32>().ok())
    else {
        return std::future::pending().await;
    };
    loop {
        if nix::unistd::getppid().as_raw() != expected {
            tracing::warn!("supervisor is gone; stopping");
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Resolves on SIGTERM, SIGINT (Ctrl-C), or when the supervising `up` is gone. The signal
/// handlers are installed when this is called, not when it is first awaited: a SIGTERM that came
/// between `up` saying `ready` and its first wait used to kill it with the default action.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    if let Err(e) = term.as_ref().and(int.as_ref()) {
        tracing::warn!(error = %e, "cannot install signal handlers");
    }
    async move {
        let recv = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = recv(term.ok()) => {},
            _ = recv(int.ok()) => {},
            _ = parent_gone() => {},
        }
    }
}
