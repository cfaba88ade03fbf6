// A 2015 library: its imports start at its own root.
mod handles;
pub use handles::Handle;
