// A glob is shadowed by an explicit import and by a local item.
use std::fs::*;
use std::sync::*;
use parking_lot::Mutex;

pub struct File;

type ProbeLocalWins = File; // => crate::File
type ProbeImportWins = Mutex<u8>; // => extern parking_lot::Mutex
type ProbeGlob = RwLock<u8>; // => extern std::sync::RwLock

mod child {
    use super::*;
    type ProbeGlobOfModule = File; // => crate::File
    type ProbeGlobOfAnImport = Mutex<u8>; // => extern parking_lot::Mutex
}

// A path through an extern crate is not found in a globbed package module that lacks
// its first segment, even when the package has one item of its last name.
mod platform {
    pub struct RwLock<T>(T);
}

mod prelude {
    pub use crate::platform::*;
}

mod processor {
    use crate::prelude::*;
    type ProbeExternThroughGlob = async_lock::RwLock<()>; // => extern async_lock::RwLock
    type ProbeGlobbedItem = RwLock<()>; // => crate::platform::RwLock
}
