// No `edition` key: 2015, where an import path starts at the crate root.
extern crate zip;

mod file;
mod index;
