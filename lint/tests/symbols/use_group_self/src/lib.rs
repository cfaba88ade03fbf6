// `self` in a group imports the crate itself, never the import being defined.
use zip::{self, ZipArchive};

type ProbeName = ZipArchive<u8>; // => extern zip::ZipArchive
type ProbeThroughCrate = zip::read::ZipFile; // => extern zip::read::ZipFile

pub mod inner {
    use std::io::{self, Cursor as Cur};
    type ProbeRenamed = Cur<u8>; // => extern std::io::Cursor
    type ProbeModule = io::BufReader<u8>; // => extern std::io::BufReader
}
