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
