// Names a workspace dependency re-exports resolve through its sources.
use my_util::{Mutex, Source};

type ProbeLock = Mutex<u8>; // => extern parking_lot::Mutex
type ProbeReexport = Source; // => dep/my_util::io::Reader
type ProbeByPath = my_util::io::Reader; // => dep/my_util::io::Reader
type ProbeLibName = older::Handle; // => extern std::fs::File
type ProbeNotThere = my_util::Missing; // => extern my_util::Missing
