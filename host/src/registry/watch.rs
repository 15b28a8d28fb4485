//! Watches the plugin directory and rescans it: on a file event (debounced),
//! and every few seconds in case an event was missed.

use super::live::Registry;
use notify::Watcher as _;
use std::sync::Arc;
use std::time::Duration;

/// How long events settle before a scan.
const DEBOUNCE: Duration = Duration::from_millis(250);
/// How often the directory is scanned without an event.
const RESCAN: Duration = Duration::from_secs(5);

/// Starts the watcher; it runs until the returned handle is dropped.
pub fn spawn(registry: Arc<Registry>) -> WatchHandle {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let dir = registry.settings().plugins_dir();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = tx.send(());
        }
    })
    .and_then(|mut w| {
        w.watch(&dir, notify::RecursiveMode::NonRecursive)
            .map(|()| w)
    });
    let watcher = match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(
                "cannot watch {} ({e}); rescanning every {RESCAN:?} only",
                dir.display()
            );
            None
        }
    };
    let task = tokio::spawn(async move {
        // A scan that keeps failing the same way is logged once.
        let mut last_error = None;
        loop {
            tokio::select! {
                event = rx.recv() => {
                    if event.is_none() {
                        // No watcher: fall back to the timer alone.
                        tokio::time::sleep(RESCAN).await;
                    }
                    tokio::time::sleep(DEBOUNCE).await;
                    while rx.try_recv().is_ok() {}
                }
                () = tokio::time::sleep(RESCAN) => {}
                // Optimised code for a connector that serves on the baseline
                // tier is in the cache: the scan swaps it in.
                () = registry.runtime().tier_up.ready.notified() => {}
            }
            match registry.scan().await {
                Ok(report)
                    if !report.loaded.is_empty()
                        || !report.removed.is_empty()
                        || !report.failed.is_empty() =>
                {
                    tracing::info!(loaded = ?report.loaded, removed = ?report.removed, failed = report.failed.len(), "plugin directory rescanned");
                }
                Ok(_) => {}
                Err(e) => {
                    let text = e.to_string();
                    if last_error.as_ref() != Some(&text) {
                        tracing::error!("{text}");
                    }
                    last_error = Some(text);
                    continue;
                }
            }
            last_error = None;
        }
    });
    WatchHandle {
        _watcher: watcher,
        task,
    }
}

/// Keeps the watcher alive; dropping it stops watching.
pub struct WatchHandle {
    _watcher: Option<notify::RecommendedWatcher>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
