pub use std::fs::File as Handle;
