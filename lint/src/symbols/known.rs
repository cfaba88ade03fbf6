//! What lockscope knows about types and traits from other crates, by full path.
//!
//! Paths are matched by crate and last segment, so `zip::read::ZipArchive` and
//! `zip::ZipArchive` (a re-export) are the same type.

/// The lock types, by name: every crate's `Mutex`, `RwLock`, `ReentrantMutex` and `FairMutex`.
pub const LOCK_TYPES: [&str; 4] = ["Mutex", "RwLock", "ReentrantMutex", "FairMutex"];

/// A lock whose guarded value every user queues on: the standard library's,
/// `parking_lot`'s, the async locks, and any `Mutex`/`RwLock` of a crate lockscope cannot
/// read (a workspace crate re-exporting one, `use ckb_util::Mutex`).
pub fn is_lock(path: &[String]) -> bool {
    let (Some(krate), Some(last)) = (path.first(), path.last()) else { return false };
    let lock_name = LOCK_TYPES.contains(&last.as_str());
    // Where the crate is known, its locks live in `sync` (`std::fs::Mutex` is nothing).
    let in_place = match krate.as_str() {
        "std" | "core" | "alloc" | "tokio" | "async_std" => path.iter().any(|s| s == "sync"),
        _ => true,
    };
    path.len() > 1 && lock_name && in_place
}

/// A lock whose waiters yield to the executor (`tokio::sync::Mutex`): holding its guard
/// across an `.await` is what it is for.
pub fn is_async_lock(path: &[String]) -> bool {
    let Some(krate) = path.first() else { return false };
    match krate.as_str() {
        "tokio" | "async_lock" | "async_std" | "smol" | "futures_intrusive" | "maitake_sync" => true,
        "futures" | "futures_util" => path.iter().any(|s| s == "lock"),
        _ => false,
    }
}

/// A collection many threads change at once without an outer lock (`DashMap`, lock-free
/// queues): a handle to one is a handle to shared mutable state.
pub fn is_concurrent_collection(path: &[String]) -> bool {
    let (Some(krate), Some(last)) = (path.first().map(String::as_str), path.last().map(String::as_str)) else {
        return false;
    };
    match krate {
        "flurry" | "scc" | "papaya" | "lockfree" => {
            matches!(last, "HashMap" | "HashSet" | "HashIndex" | "TreeIndex" | "Queue" | "Stack" | "Bag")
        }
        _ => matches!(
            last,
            "DashMap" | "DashSet" | "SegQueue" | "ArrayQueue" | "ConcurrentQueue" | "SkipMap" | "SkipSet" | "CHashMap"
        ),
    }
}

/// `Arc` from the standard library or a drop-in (`triomphe`), by name.
pub fn is_arc(path: &[String]) -> bool {
    path.last().is_some_and(|last| last == "Arc")
}

/// How an external type relates to `Read + Seek`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum External {
    /// Always `Read + Seek` (a file, a cursor, a zip archive).
    ReadSeek(Leaf),
    /// `Read + Seek` when its first type argument is (a `BufReader<R>`, a `tar::Archive<R>`).
    ReadSeekIf,
    /// Never `Read + Seek` and not a holder of one: writers, encoders, streaming
    /// decoders (not seekable), channels, `PhantomData`. Not looked into.
    Opaque,
    /// Anything else: `Read + Seek` when it holds such a value (containers, `pdb::PDB<Cursor<_>>`).
    Holder,
}

/// The kind of `Read + Seek` value at the end of a chain: it decides which fix to suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// An OS file: positional reads (`FileExt::read_at`) need no lock.
    File,
    /// A reader over bytes (`Cursor`, a zip archive): clone per reader, or read the `&[u8]` by offset.
    Bytes,
    /// A type parameter or trait object: the caller chooses the reader.
    Generic,
    /// A crate type implementing `Read` and `Seek` itself.
    CrateReader,
}

pub fn classify(path: &[String]) -> External {
    let (Some(krate), Some(last)) = (path.first().map(String::as_str), path.last().map(String::as_str)) else {
        return External::Holder;
    };
    let in_fs = path.iter().any(|s| s == "fs");
    match (krate, last) {
        ("std" | "tokio" | "async_std" | "smol", "File") if in_fs => External::ReadSeek(Leaf::File),
        ("std" | "futures" | "futures_util" | "async_std", "Cursor") => External::ReadSeek(Leaf::Bytes),
        ("zip" | "async_zip", "ZipArchive") => External::ReadSeek(Leaf::Bytes),
        ("std" | "tokio" | "futures" | "futures_util" | "async_std", "BufReader") => External::ReadSeekIf,
        ("tar" | "tokio_tar" | "async_tar", "Archive") => External::ReadSeekIf,
        ("tar" | "tokio_tar" | "async_tar", "Builder") => External::Opaque,
        // Shared ownership gives only `&` access: a lock around an `Arc<File>` is not
        // what serialises reads of that file.
        ("std" | "core" | "alloc", "Arc" | "Rc" | "Weak") => External::Opaque,
        (
            "std" | "core",
            "PhantomData" | "Sender" | "SyncSender" | "Receiver" | "JoinHandle" | "Take" | "Chain" | "Bytes" | "Lines"
            | "Split",
        ) => External::Opaque,
        (_, name)
            if ["Writer", "Encoder", "Decoder", "Compressor", "Decompressor", "Sink", "Sender", "Receiver"]
                .iter()
                .any(|suffix| name.ends_with(suffix)) =>
        {
            External::Opaque
        }
        _ => External::Holder,
    }
}

/// Does a field's name say its `File` is a stream, not a file on disk (a pipe, a tap
/// device, a terminal, a socket, an event descriptor)? Such a `File` cannot seek, so no
/// positional read or clone per reader applies: `tap_file`, `resize_pipe`, `evt_fd`,
/// `hybrid_stream`.
pub fn names_a_stream(field: &str) -> bool {
    const STREAM_WORDS: &[&str] = &[
        "pipe", "tap", "tun", "tty", "pty", "sock", "socket", "stream", "fifo", "serial", "uart", "console", "stdin",
        "stdout", "stderr", "evt", "event", "eventfd", "irq", "uffd", "vhost", "kvm", "hidraw", "epoll", "signal",
        "fd",
    ];
    field.to_ascii_lowercase().split('_').any(|word| STREAM_WORDS.contains(&word))
}

/// The `Read` half of the pair (sync or async). `BufRead` has `Read` as a supertrait.
pub fn is_read_trait(path: &[String]) -> bool {
    is_io_trait(path, &["Read", "BufRead", "AsyncRead", "AsyncBufRead"])
}

/// The `Seek` half of the pair (sync or async).
pub fn is_seek_trait(path: &[String]) -> bool {
    is_io_trait(path, &["Seek", "AsyncSeek"])
}

fn is_io_trait(path: &[String], names: &[&str]) -> bool {
    let (Some(krate), Some(last)) = (path.first(), path.last()) else {
        return false;
    };
    names.contains(&last.as_str())
        && matches!(
            krate.as_str(),
            "std" | "tokio" | "futures" | "futures_io" | "futures_util" | "async_std" | "smol" | "futures_lite"
        )
}

/// Is this full path something lockscope knows? Used to accept a name brought in by
/// a glob import from another crate (`use std::io::*;`).
pub fn is_known(path: &[String]) -> bool {
    is_lock(path)
        || is_read_trait(path)
        || is_seek_trait(path)
        || matches!(classify(path), External::ReadSeek(_) | External::ReadSeekIf)
}

/// Names from the prelude that resolve without an import.
pub fn prelude(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "Box" => &["std", "boxed", "Box"],
        "Vec" => &["std", "vec", "Vec"],
        "Option" => &["std", "option", "Option"],
        "Result" => &["std", "result", "Result"],
        "String" => &["std", "string", "String"],
        _ => return None,
    })
}

/// Names too common to be worth looking up in other files of a package: primitives,
/// prelude and standard containers, and the locks themselves.
pub fn is_common_name(name: &str) -> bool {
    is_primitive(name)
        || matches!(
            name,
            "u8" | "u16"
                | "u32"
                | "u64"
                | "u128"
                | "usize"
                | "i8"
                | "i16"
                | "i32"
                | "i64"
                | "i128"
                | "isize"
                | "f32"
                | "f64"
                | "bool"
                | "char"
                | "str"
                | "Self"
                | "Vec"
                | "String"
                | "Option"
                | "Box"
                | "Result"
                | "Arc"
                | "Rc"
                | "HashMap"
                | "BTreeMap"
                | "HashSet"
                | "BTreeSet"
                | "VecDeque"
                | "Mutex"
                | "RwLock"
                | "Cell"
                | "RefCell"
                | "PhantomData"
                | "std"
                | "core"
                | "alloc"
                | "crate"
                | "super"
                | "self"
                | "io"
                | "sync"
                | "fs"
        )
}

/// Built-in scalar types: never a package item, never worth resolving.
pub fn is_primitive(name: &str) -> bool {
    matches!(
        name,
        "u8" | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "f32"
            | "f64"
            | "bool"
            | "char"
            | "str"
    )
}
