//! The `tracing` event of a contended acquisition, written by the acquire path and read
//! by the layer: both halves here, so its fields are spelled once.

use crate::stats::{LockClass, Mode};
use std::panic::Location;
use tracing::field::{Field, Visit};

/// The `tracing` event of a contended acquisition (target `lockscope`, TRACE), which
/// the `ContentionLayer` aggregates and any other layer can log.
pub(crate) fn emit(
    class: &LockClass,
    site: &'static Location<'static>,
    mode: Mode,
    holder: Option<&'static Location<'static>>,
    wait_ns: u64,
) {
    // Sites travel as `&'static Location` addresses (no formatting on this path) and,
    // for other layers, as lazily formatted `file:line:column` values.
    tracing::event!(
        target: "lockscope",
        tracing::Level::TRACE,
        lock = class.name.as_str(),
        site = tracing::field::display(site),
        wait_ns,
        lock_id = class.id,
        mode = mode as u64,
        site_ptr = site as *const Location<'static> as u64,
        holder_ptr = holder.map_or(0, |h| h as *const Location<'static> as u64),
    );
}

/// Is this a wait event from [`emit`]? (Same target, file and module.)
fn is_wait_event(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.target() == "lockscope"
        && metadata.module_path() == Some(module_path!())
        && metadata.file() == Some(file!())
}

/// A wait event, read back.
pub(crate) struct Wait {
    pub(crate) lock_id: u64,
    /// The address of the waiter's `&'static Location`.
    pub(crate) site: usize,
    pub(crate) mode: Mode,
    /// The address of the holder's `&'static Location` (0: unknown).
    pub(crate) holder: usize,
    pub(crate) wait_ns: u64,
}

/// The wait an event reports, if it is one of [`emit`]'s. Only this crate's own events:
/// their `site_ptr`/`holder_ptr` fields are addresses the report dereferences, so
/// another crate's event with the same target must not be read as one.
pub(crate) fn decode(event: &tracing::Event<'_>) -> Option<Wait> {
    if !is_wait_event(event.metadata()) {
        return None;
    }
    let mut fields = WaitFields::default();
    event.record(&mut fields);
    let lock_id = fields.lock_id?;
    (fields.site != 0).then(|| Wait {
        lock_id,
        site: fields.site,
        mode: Mode::from_code(fields.mode),
        holder: fields.holder,
        wait_ns: fields.wait_ns,
    })
}

#[derive(Default)]
struct WaitFields {
    lock_id: Option<u64>,
    site: usize,
    wait_ns: u64,
    mode: u64,
    holder: usize,
}

impl Visit for WaitFields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "lock_id" => self.lock_id = Some(value),
            "wait_ns" => self.wait_ns = value,
            "mode" => self.mode = value,
            "site_ptr" => self.site = value as usize,
            "holder_ptr" => self.holder = value as usize,
            _ => {}
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}
