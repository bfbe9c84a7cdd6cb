//! The always-on proxy in the background host: at every check (and so at once when the
//! window or `amo` changes a setting, through the folder watch) it compares what the
//! settings ask for with what it serves, and starts, stops or starts again with the new
//! port, account or key. What it does goes to the engine's `proxy_state`.

use std::sync::Mutex;

use amo_core::{hosted, AccountHost, Engine, HostedProxy, HostedState, ProxyOptions};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What the settings ask the host to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    port: u16,
    account: AccountHost,
    key_version: u64,
}

/// A proxy being served, and how to stop it.
struct Serving {
    wanted: Wanted,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// The host's always-on proxy.
#[derive(Default)]
pub(super) struct LocalApi {
    serving: Mutex<Option<Serving>>,
}

impl LocalApi {
    /// Brings what is served in line with the settings.
    pub(super) async fn sync(&self, engine: &Engine) {
        let e = engine.clone();
        let Ok(wanted) = tokio::task::spawn_blocking(move || wanted(&e)).await else {
            return;
        };
        let wanted = match wanted {
            Ok(Some(w)) => w,
            Ok(None) => {
                self.stop().await;
                let _ = engine.set_hosted_proxy_state(&HostedState::Off);
                return;
            }
            Err(err) => {
                self.stop().await;
                fail(engine, &err);
                return;
            }
        };
        if self.serves(&wanted) {
            return;
        }
        self.stop().await;
        let e = engine.clone();
        let key = match tokio::task::spawn_blocking(move || e.hosted_proxy_key()).await {
            Ok(Ok(key)) => key,
            Ok(Err(err)) => return fail(engine, &err),
            Err(_) => return,
        };
        let settings = HostedProxy {
            on: true,
            port: wanted.port,
            account: None,
            key_version: wanted.key_version,
        };
        let options = ProxyOptions {
            listen: amo_core::Listen::Tcp(settings.listen()),
            read_only: false,
            key: Some(key),
        };
        let proxy = match engine.start_proxy(&wanted.account, options).await {
            Ok(proxy) => proxy,
            Err(err) => return fail(engine, &err),
        };
        let _ = engine.set_hosted_proxy_state(&HostedState::Serving {
            url: proxy.url(),
            account: proxy.account().to_string(),
            since: hosted::now(),
            key_version: wanted.key_version,
        });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = proxy
                .serve(async {
                    let _ = stopped.await;
                })
                .await;
        });
        *self.lock() = Some(Serving { wanted, stop, task });
    }

    /// Stops serving (the host is ending) and says so.
    pub(super) fn end(&self, engine: &Engine) {
        if let Some(s) = self.lock().take() {
            let _ = s.stop.send(());
            let _ = engine.set_hosted_proxy_state(&HostedState::Off);
        }
    }

    /// Whether `wanted` is served now.
    fn serves(&self, wanted: &Wanted) -> bool {
        self.lock()
            .as_ref()
            .is_some_and(|s| s.wanted == *wanted && !s.task.is_finished())
    }

    /// Stops what is served and waits until its port is free again.
    async fn stop(&self) {
        let Some(s) = self.lock().take() else {
            return;
        };
        let _ = s.stop.send(());
        let _ = s.task.await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Serving>> {
        self.serving.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the settings ask for: `None` when the proxy is off.
fn wanted(engine: &Engine) -> amo_core::Result<Option<Wanted>> {
    let settings = engine.hosted_proxy()?;
    if !settings.on {
        return Ok(None);
    }
    Ok(Some(Wanted {
        port: settings.port,
        account: engine.hosted_proxy_account(&settings)?,
        key_version: settings.key_version,
    }))
}

/// Records why the proxy is not served; the next check tries again.
fn fail(engine: &Engine, err: &amo_core::Error) {
    let lang = engine.lang();
    let reason = match err {
        // The listener's own advice is about the redirect URI: say what to do here instead.
        amo_core::Error::Listen { addr, reason } => {
            let port = addr.rsplit(':').next().unwrap_or_default();
            let args = [("port", port), ("reason", reason.as_str())];
            format!(
                "{} {}",
                lang.tr("proxy.hosted_port_taken", &args),
                lang.tr("proxy.hosted_port_taken_fix", &[])
            )
        }
        _ => err.describe(lang),
    };
    let _ = engine.set_hosted_proxy_state(&HostedState::Failed {
        code: err.view(lang).kind,
        reason,
        since: hosted::now(),
    });
}
