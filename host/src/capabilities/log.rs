//! `payhost:connector/log`: the connector's messages in the host's log,
//! tagged with its name, masked, size-capped and rate-limited. The
//! connector's standard output and error end up here too.

use crate::capabilities::host_side::HostSide;
use crate::contract::legacy;
use crate::contract::log::{self as wit, Level};
use crate::payments::mask::Masker;
use payhost_rules::text::escape;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker};

/// The longest message kept; longer ones are cut.
const MAX_MESSAGE: usize = 2048;
/// The most fields kept per message.
const MAX_FIELDS: usize = 16;
/// The most bytes of log one call may write (message and fields, before
/// escaping), whatever its line count.
const MAX_BYTES: usize = 64 * 1024;

/// One call's log state.
pub(crate) struct LogCtx {
    pub(crate) connector: Arc<str>,
    pub(crate) masker: Masker,
    pub(crate) max_lines: u32,
    pub(crate) lines: u32,
    pub(crate) bytes: usize,
    pub(crate) dropped: u32,
    /// The last panic the connector reported through the log (the SDK's
    /// hook, where there is no standard error), cut to the message limit
    /// and not yet masked: it explains the trap that follows.
    pub(crate) panic: Option<String>,
}

impl LogCtx {
    pub(crate) fn new(connector: Arc<str>, masker: Masker, max_lines: u32) -> Self {
        LogCtx {
            connector,
            masker,
            max_lines,
            lines: 0,
            bytes: 0,
            dropped: 0,
            panic: None,
        }
    }

    /// Writes one line at `level`, if the call still has lines left.
    pub(crate) fn write(
        &mut self,
        level: Level,
        stream: &str,
        message: &str,
        fields: &[(String, String)],
    ) {
        let size = message.len().min(MAX_MESSAGE)
            + fields
                .iter()
                .take(MAX_FIELDS)
                .map(|(k, v)| k.len().min(MAX_MESSAGE) + v.len().min(MAX_MESSAGE))
                .sum::<usize>();
        // Kept even past the limits: a flood before the panic must not hide
        // what ended the call (masked and escaped once, where it is used).
        if matches!(level, Level::Error) && message.starts_with("panicked at ") {
            self.panic = Some(cut(message).to_owned());
        }
        if self.lines >= self.max_lines || self.bytes + size > MAX_BYTES {
            self.dropped += 1;
            return;
        }
        self.bytes += size;
        self.lines += 1;
        // Masked, and escaped: a newline or a terminal escape from the
        // connector cannot start a forged host line.
        let message = escape(&self.masker.mask(cut(message))).into_owned();
        let fields: Vec<String> = fields
            .iter()
            .take(MAX_FIELDS)
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    escape(&self.masker.mask(cut(k))),
                    escape(&self.masker.mask(cut(v)))
                )
            })
            .collect();
        let fields = fields.join(" ");
        let connector = &*self.connector;
        match level {
            Level::Trace => {
                tracing::trace!(target: "connector", connector, stream, fields, "{message}")
            }
            Level::Debug => {
                tracing::debug!(target: "connector", connector, stream, fields, "{message}")
            }
            Level::Info => {
                tracing::info!(target: "connector", connector, stream, fields, "{message}")
            }
            Level::Warn => {
                tracing::warn!(target: "connector", connector, stream, fields, "{message}")
            }
            Level::Error => {
                tracing::error!(target: "connector", connector, stream, fields, "{message}")
            }
        }
    }

    /// Reports lines dropped over the limit, once, at the end of a call.
    pub(crate) fn finish(&mut self) {
        if self.dropped > 0 {
            tracing::warn!(
                target: "connector",
                connector = &*self.connector,
                "{} log lines over the limit of {} lines or {MAX_BYTES} bytes per call were dropped",
                self.dropped,
                self.max_lines
            );
            self.dropped = 0;
        }
    }
}

fn cut(text: &str) -> &str {
    if text.len() <= MAX_MESSAGE {
        return text;
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The view of [`LogCtx`] that implements the generated trait.
pub(crate) struct Log<'a> {
    ctx: &'a mut LogCtx,
    _host_side: HostSide<'a>,
}

struct LogCapability;

impl HasData for LogCapability {
    type Data<'a> = Log<'a>;
}

/// Adds `log` to a linker whose store is `T`; `get` finds this
/// capability's context in the store.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> Log<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, LogCapability>(linker, get)?;
    legacy::log::add_to_linker::<T, LogCapability>(linker, get)
}

impl<'a> Log<'a> {
    /// The view of one call's context, for one host call.
    pub(crate) fn new(ctx: &'a mut LogCtx, host_side: HostSide<'a>) -> Self {
        Log {
            ctx,
            _host_side: host_side,
        }
    }
}

impl wit::Host for Log<'_> {
    fn log(
        &mut self,
        level: Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        self.ctx.write(level, "log", &message, &fields);
        Ok(())
    }
}

impl legacy::log::Host for Log<'_> {
    fn log(
        &mut self,
        level: legacy::log::Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        let level = match level {
            legacy::log::Level::Trace => Level::Trace,
            legacy::log::Level::Debug => Level::Debug,
            legacy::log::Level::Info => Level::Info,
            legacy::log::Level::Warn => Level::Warn,
            legacy::log::Level::Error => Level::Error,
        };
        self.ctx.write(level, "log", &message, &fields);
        Ok(())
    }
}
