use file::{File, FileIterator};
use std::fs;
use zip::ZipArchive;

type ProbeRootModule = File; // => crate::file::File
type ProbeGroup = FileIterator; // => crate::file::FileIterator
type ProbeStd = fs::File; // => extern std::fs::File
type ProbeExternCrate = ZipArchive<u8>; // => extern zip::ZipArchive
