// `pub use` re-exports, across modules and files.
pub mod store;
pub use store::Archive;

type ProbeReexport = Archive; // => crate::store::imp::Archive
type ProbeThroughModule = store::Archive; // => crate::store::imp::Archive
type ProbeGlobReexport = store::Entry; // => crate::store::imp::Entry
