// A workspace utility crate that re-exports what its dependents use.
pub use parking_lot::Mutex;
pub mod io;
pub use io::Reader as Source;
