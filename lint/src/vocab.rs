//! The words lockscope knows, in one place: which methods take a lock, and what a
//! method does to an I/O value. Rules and engine layers ask here; none keeps its own
//! list.

/// How a lock is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// `RwLock::read`: readers share it.
    Shared,
    /// `lock`, `write`: one holder at a time.
    Exclusive,
}

/// Methods that take a lock (no arguments), and how.
pub const ACQUIRE_METHODS: &[(&str, Acquire)] = &[
    ("lock", Acquire::Exclusive),
    ("write", Acquire::Exclusive),
    ("try_lock", Acquire::Exclusive),
    ("try_write", Acquire::Exclusive),
    ("lock_arc", Acquire::Exclusive),
    ("write_arc", Acquire::Exclusive),
    ("blocking_lock", Acquire::Exclusive),
    ("blocking_write", Acquire::Exclusive),
    ("lock_owned", Acquire::Exclusive),
    ("write_owned", Acquire::Exclusive),
    ("try_lock_for", Acquire::Exclusive),
    ("try_lock_until", Acquire::Exclusive),
    ("try_write_for", Acquire::Exclusive),
    ("try_write_until", Acquire::Exclusive),
    ("read", Acquire::Shared),
    ("try_read", Acquire::Shared),
    ("try_read_for", Acquire::Shared),
    ("try_read_until", Acquire::Shared),
    ("read_arc", Acquire::Shared),
    ("blocking_read", Acquire::Shared),
    ("read_owned", Acquire::Shared),
    ("upgradable_read", Acquire::Shared),
    ("read_recursive", Acquire::Shared),
];

/// Methods that return the value they are called on, still owned (a `LockResult`'s
/// `unwrap`, a poisoned lock's `into_inner`), as opposed to a borrow of it.
pub fn hands_on_ownership(method: &str) -> bool {
    matches!(
        method,
        "unwrap"
            | "expect"
            | "unwrap_or_else"
            | "unwrap_or_default"
            | "ok"
            | "ok_or"
            | "ok_or_else"
            | "or_else"
            | "map_err"
            | "inspect"
            | "inspect_err"
            | "context"
            | "with_context"
            | "into_inner"
            | "unwrap_unchecked"
    )
}

/// Words a file doing blocking work mentions (a prefilter's half).
pub const BLOCKING_WORDS: &[&str] = &[
    // A path into `std::fs` (a file that only imports `fs` calls nothing through it).
    // As a bare word, `fs` is the scan's costliest: two letters inside many identifiers,
    // and it shortens the automaton's fingerprints for every other word.
    "fs::",
    "File",
    "OpenOptions",
    "read_dir",
    "TcpStream",
    "reqwest",
    "ureq",
    "Command",
    "sleep",
    "recv",
    "recv_timeout",
    "join",
    "GzDecoder",
    "MultiGzDecoder",
    "ZlibDecoder",
    "DeflateDecoder",
    "BzDecoder",
    "XzDecoder",
    "Decoder",
    "ZipArchive",
    "zstd",
    "decode_all",
    "fs_err",
    "block_on",
];

/// Free functions that block, by their last two path segments (`fs::read`), with the
/// name to show.
const BLOCKING_FUNCTIONS: &[(&str, &str, &str)] = &[
    ("fs", "read", "std::fs::read"),
    ("fs", "read_to_string", "std::fs::read_to_string"),
    ("fs", "write", "std::fs::write"),
    ("fs", "read_dir", "std::fs::read_dir"),
    ("fs", "copy", "std::fs::copy"),
    ("fs", "rename", "std::fs::rename"),
    ("fs", "remove_file", "std::fs::remove_file"),
    ("fs", "remove_dir_all", "std::fs::remove_dir_all"),
    ("fs", "create_dir", "std::fs::create_dir"),
    ("fs", "create_dir_all", "std::fs::create_dir_all"),
    ("fs", "remove_dir", "std::fs::remove_dir"),
    ("fs", "metadata", "std::fs::metadata"),
    ("fs", "canonicalize", "std::fs::canonicalize"),
    ("File", "open", "File::open"),
    ("File", "create", "File::create"),
    ("TcpStream", "connect", "TcpStream::connect"),
    ("TcpStream", "connect_timeout", "TcpStream::connect_timeout"),
    ("thread", "sleep", "std::thread::sleep"),
    ("blocking", "get", "reqwest::blocking::get"),
    ("ureq", "get", "ureq::get"),
    ("ureq", "post", "ureq::post"),
    ("zstd", "decode_all", "zstd::decode_all"),
    ("stream", "decode_all", "zstd::stream::decode_all"),
    // Running a future to completion on this thread: it waits for whatever the future
    // waits for (the network, a timer, another task).
    ("executor", "block_on", "futures::executor::block_on"),
    ("future", "block_on", "future::block_on"),
    ("pollster", "block_on", "pollster::block_on"),
    ("task", "block_on", "task::block_on"),
    ("smol", "block_on", "smol::block_on"),
];

/// Can a method of this name be one [`blocking_call`] reports? (A cheap first test.)
pub fn may_block(method: &str) -> bool {
    matches!(
        method,
        "output"
            | "status"
            | "wait"
            | "wait_with_output"
            | "open"
            | "recv"
            | "recv_timeout"
            | "recv_deadline"
            | "join"
            | "read_to_end"
            | "read_to_string"
            | "call"
            | "send"
            | "unpack"
            | "block_on"
    )
}

/// Does evaluating `expr` block the thread on the disk, the network, a child process, a
/// timer, another thread or an inflater? What to call it if so. (Awaited calls are the
/// caller's to leave out.)
pub fn blocking_call(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Call(call) => blocking_function(call),
        syn::Expr::MethodCall(m) => blocking_method(m),
        _ => None,
    }
}

/// What a scope's `use` declarations bring in, by the name they bind
/// (`slurp` → `std::fs::read_to_string` for `use std::fs::read_to_string as slurp;`).
pub type Imports = std::collections::HashMap<String, Vec<String>>;

/// The imports a body sees, innermost scope first: an inline module's own, then those
/// around it that it reaches through `use super::*`. Looked up in order, never merged, so
/// no scope's map is copied for the bodies inside it.
#[derive(Clone, Debug, Default)]
pub struct ImportScopes<'a>(Vec<&'a Imports>);

impl<'a> ImportScopes<'a> {
    /// Scopes, innermost first.
    pub fn new(scopes: Vec<&'a Imports>) -> Self {
        ImportScopes(scopes)
    }

    /// One scope's imports.
    pub fn of(imports: &'a Imports) -> Self {
        ImportScopes(vec![imports])
    }

    /// What `name` is bound to, by the innermost scope that binds it.
    pub fn get(&self, name: &str) -> Option<&'a Vec<String>> {
        self.0.iter().find_map(|scope| scope.get(name))
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Crates whose file, network and timer calls return futures: awaited, they wait
/// without blocking the thread; not awaited, they do nothing yet.
const ASYNC_IO_CRATES: &[&str] = &[
    "tokio",
    "async_std",
    "smol",
    "async_fs",
    "async_net",
    "async_process",
    "tokio_uring",
    "monoio",
    "glommio",
    "compio",
];

/// A written path with its first segment replaced by what `imports` binds to that name,
/// as far as imports go (`fs::read` → `std::fs::read` after `use std::fs;`).
pub fn expand_path(mut segments: Vec<String>, imports: Option<&ImportScopes<'_>>) -> Vec<String> {
    let Some(imports) = imports else { return segments };
    // A few steps: `use a::b; use b::c;` chains are short, and a cycle must end.
    for _ in 0..4 {
        let Some(target) = segments.first().and_then(|first| imports.get(first)) else { break };
        // Markers of where resolution starts (`{crate root}`, `{extern}`) are not names.
        let target: Vec<String> = target.iter().filter(|s| !s.starts_with('{')).cloned().collect();
        if target.is_empty() || target.first() == segments.first() {
            segments.splice(..1, target);
            break;
        }
        segments.splice(..1, target);
    }
    segments
}

/// [`blocking_call`] for a call of a path (`std::fs::read(p)`).
pub fn blocking_function(call: &syn::ExprCall) -> Option<String> {
    blocking_function_in(call, None)
}

/// [`blocking_function`], the path read through the scope's imports: `slurp(p)` after
/// `use std::fs::read_to_string as slurp;` blocks, `fs::read(p)` after `use tokio::fs;`
/// does not.
pub fn blocking_function_in(call: &syn::ExprCall, imports: Option<&ImportScopes<'_>>) -> Option<String> {
    let syn::Expr::Path(func) = &*call.func else { return None };
    // Most calls are not blocking: reject them by the name called, before any allocation.
    // Imports only replace a path's first segment, so only a one-segment call can be
    // renamed (`slurp`).
    let last = &func.path.segments.last()?.ident;
    let called_last = match (func.path.segments.len(), imports) {
        (1, Some(imports)) => imports.get(&last.to_string()).and_then(|t| t.last()).cloned(),
        _ => None,
    };
    let named_blocking = |name: &str| name == "sleep" || BLOCKING_FUNCTIONS.iter().any(|(_, l, _)| *l == name);
    let written_blocking = || last == "sleep" || BLOCKING_FUNCTIONS.iter().any(|(_, l, _)| last == l);
    if !called_last.as_deref().map_or_else(written_blocking, named_blocking) {
        return None;
    }
    let written: Vec<String> = func.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let mut segments = expand_path(written, imports);
    if segments.first().is_some_and(|c| ASYNC_IO_CRATES.contains(&c.as_str()))
        && !segments.last().is_some_and(|l| l == "block_on")
    {
        return None;
    }
    // `fs_err` is `std::fs` with paths in its errors.
    if segments.first().is_some_and(|c| c == "fs_err") {
        segments.splice(..1, ["std".to_string(), "fs".to_string()]);
    }
    let (last, before) = match segments.as_slice() {
        [.., before, last] => (last.as_str(), before.as_str()),
        [last] if last == "sleep" => return Some("std::thread::sleep".into()),
        _ => return None,
    };
    BLOCKING_FUNCTIONS.iter().find(|(b, l, _)| *b == before && *l == last).map(|(_, _, shown)| shown.to_string())
}

/// What a thread's join is called when it blocks.
pub const JOIN_CALL: &str = "JoinHandle::join";

/// [`blocking_call`] for a method call (`Command::new(..).output()`), or a blocking
/// function given by its path to a combinator that calls it now
/// (`handle.map(JoinHandle::join)`, `paths.iter().map(fs::read)`).
pub fn blocking_method(m: &syn::ExprMethodCall) -> Option<String> {
    let method = m.method.to_string();
    if !may_block(&method) {
        let called_now = m.args.iter().any(|a| matches!(a, syn::Expr::Path(_))) && calls_closure_now(&method);
        return if called_now { m.args.iter().find_map(blocking_function_value) } else { None };
    }
    // A blocking receive or join.
    // `recv()` takes no argument; `recv(&rx)` registers or completes a select arm
    // (crossbeam's `Select`, `SelectedOperation`), which does not wait.
    match (method.as_str(), m.args.len()) {
        ("recv", 0) => return Some("Receiver::recv".into()),
        ("recv_timeout" | "recv_deadline", 1) => return Some(format!("Receiver::{method}")),
        ("join", 0) => return Some(JOIN_CALL.into()),
        ("recv" | "recv_timeout" | "recv_deadline" | "join", _) => return None,
        _ => {}
    }
    // The rest are told by what they are called on: printing the receiver costs its size,
    // so it is done only here.
    let chain = quote::ToTokens::to_token_stream(&m.receiver).to_string();
    match method.as_str() {
        // `Command::new(..).output()`, `child.wait()` of a spawned command.
        "output" | "status" if chain.contains("Command") => Some(format!("Command::{method}")),
        "wait" | "wait_with_output" if chain.contains("spawn") || chain.contains("child") => {
            Some(format!("Child::{method}"))
        }
        "open" if chain.contains("OpenOptions") || chain.contains("options") => Some("OpenOptions::open".into()),
        // Inflating a compressed stream.
        "read_to_end" | "read_to_string" if chain.contains("Decoder") || chain.contains("decoder") => {
            Some(format!("Decoder::{method}"))
        }
        // Unpacking a compressed tarball: inflating and writing every file.
        "unpack" if chain.contains("Archive") && chain.contains("Decoder") => Some("tar::Archive::unpack".into()),
        "call" if chain.contains("ureq") => Some("ureq::Request::call".into()),
        "send" if chain.contains("blocking") => Some("reqwest::blocking::RequestBuilder::send".into()),
        // A runtime's or handle's `block_on(fut)`: the thread waits for the future.
        "block_on" if m.args.len() == 1 => Some("Runtime::block_on".into()),
        _ => None,
    }
}

/// Does a call of this name run its argument (a future) to completion, here? A guard
/// taken in that argument (`rt.block_on(sink.lock().send(m))`) is what the future works
/// on: the guarded value's own work.
pub fn runs_argument(name: &str) -> bool {
    name == "block_on"
}

/// A blocking function or method named as a value (`JoinHandle::join`, `fs::read`): what
/// to call it when it runs.
fn blocking_function_value(arg: &syn::Expr) -> Option<String> {
    let syn::Expr::Path(p) = arg else { return None };
    let mut rev = p.path.segments.iter().rev().map(|s| s.ident.to_string());
    let (last, before) = (rev.next()?, rev.next()?);
    match (before.as_str(), last.as_str()) {
        ("JoinHandle" | "ScopedJoinHandle", "join") => Some(JOIN_CALL.into()),
        ("Child", "wait" | "wait_with_output") | ("Command", "output" | "status") => Some(format!("{before}::{last}")),
        _ => BLOCKING_FUNCTIONS
            .iter()
            .find(|(b, l, _)| *b == before && *l == last)
            .map(|(_, _, shown)| shown.to_string()),
    }
}

/// Words a file handing out a guard mentions (`fn get() -> RwLockWriteGuard<'static, Data>`
/// takes `RwLock` somewhere): the lock types themselves, as whole words, which the
/// `mutex_read_seek` prefilter scans for already.
pub const GUARD_HELPER_WORDS: &[&str] = &["Mutex", "RwLock"];

/// Does a method of this name take a guard and hand it back, still held (a condition
/// variable's `wait(guard)`, `wait_while(guard, ..)`, `wait_timeout(guard, d)`)?
pub fn hands_guard_back(method: &str) -> bool {
    matches!(method, "wait" | "wait_while" | "wait_timeout" | "wait_timeout_while" | "wait_timeout_ms")
}

/// Does a method of this name give a file to a child process as its standard stream
/// (`Command::stdin`/`stdout`/`stderr`)? The child uses the file; no code here reads it.
pub fn gives_child_stdio(method: &str) -> bool {
    matches!(method, "stdin" | "stdout" | "stderr")
}

/// Is a type of this name one that wraps the value of its first type argument
/// (`Result`, `Option`, `LockResult`, a crate's `type WhResult<T> = Result<T, WhError>`)?
pub fn wraps_first_argument(name: &str) -> bool {
    name == "Option" || name.ends_with("Result")
}

/// Is a type of this name a lock's guard? Guards are named `…Guard` (`MutexGuard`,
/// `RwLockReadGuard`, `ArcMutexGuard`), but for the standard streams' `…Lock`s.
pub fn names_guard_type(name: &str) -> bool {
    name.ends_with("Guard") || matches!(name, "StdoutLock" | "StderrLock" | "StdinLock")
}

/// Words a file that takes a lock mentions (a prefilter's half): the lock types, and
/// every call of an [`ACQUIRE_METHODS`] method, since a lock declared in another file
/// is taken with no lock word in sight (`tester.validators.read()`). `read` and `write`
/// are words only as argument-less calls: as plain words they are in most files.
pub const LOCK_WORDS: &[&str] = &[
    "Mutex",
    "RwLock",
    "ReentrantMutex",
    "FairMutex",
    "lock",
    "try_lock",
    "lock_arc",
    "blocking_lock",
    "lock_owned",
    "try_lock_for",
    "try_lock_until",
    "try_write_for",
    "try_write_until",
    "try_read_for",
    "try_read_until",
    "write()",
    "try_write()",
    "write_arc()",
    "blocking_write()",
    "write_owned()",
    "read()",
    "try_read()",
    "read_arc()",
    "blocking_read()",
    "read_owned()",
    "upgradable_read()",
    "read_recursive()",
];

/// How `method` takes a lock, if it is a lock method called with `args` arguments
/// (`read()` takes a lock; `read(&mut buf)` reads).
pub fn acquire(method: &str, args: usize) -> Option<Acquire> {
    let timed = method.ends_with("_for") || method.ends_with("_until");
    if args > usize::from(timed) {
        return None;
    }
    ACQUIRE_METHODS.iter().find(|(name, _)| *name == method).map(|&(_, how)| how)
}

/// What a method call does to an I/O value it is called on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoUse {
    /// Reads from the cursor (`read_exact`, `BufRead::lines`, `ZipArchive::by_name`).
    Read,
    /// Moves the cursor (`seek`): a read when the value is not also written.
    Seek,
    /// Reads at an offset through `&self` (`FileExt::read_at`): no cursor, no lock needed.
    Positional,
    /// Writes, flushes, syncs.
    Write,
    /// Neither reads nor writes through the cursor: descriptors, metadata, `Option` plumbing.
    Neutral,
    /// Hands on the same value or a part of it (`as_mut`, `unwrap`, `get_mut`).
    PassThrough,
    /// Not a method lockscope knows.
    Unknown,
}

const READ_METHODS: &[&str] = &[
    "read",
    "read_exact",
    "read_to_end",
    "read_to_string",
    "read_vectored",
    "read_buf",
    "read_buf_exact",
    "read_line",
    "read_until",
    "lines",
    "bytes",
    "chars",
    "split",
    "fill_buf",
    "consume",
    "by_name",
    "by_index",
    "by_index_raw",
    "by_name_decrypt",
    "by_index_decrypt",
    "by_name_seek",
    "by_path",
    "entries",
    "entries_with_seek",
    "unpack",
    "extract",
    "poll_read",
    "poll_fill_buf",
];
const SEEK_METHODS: &[&str] =
    &["seek", "rewind", "stream_position", "seek_relative", "stream_len", "poll_seek", "start_seek"];
const POSITIONAL_METHODS: &[&str] =
    &["read_at", "read_exact_at", "seek_read", "read_vectored_at", "read_at_volatile", "read_exact_at_volatile"];
const WRITE_METHODS: &[&str] = &[
    "write",
    "write_all",
    "write_fmt",
    "write_vectored",
    "write_str",
    "flush",
    "set_len",
    "sync_all",
    "sync_data",
    "write_at",
    "write_all_at",
    "seek_write",
    "start_file",
    "add_directory",
    "append",
    "finish",
    "poll_write",
    "poll_flush",
    "shutdown",
];
const NEUTRAL_METHODS: &[&str] = &[
    "is_some",
    "is_none",
    "take",
    "replace",
    "insert",
    "get_or_insert_with",
    "metadata",
    "set_permissions",
    "as_raw_fd",
    "as_fd",
    "as_raw_handle",
    "as_handle",
    "into_raw_fd",
    "len",
    "is_empty",
    "file_names",
    "comment",
    "clone",
    "fmt",
    "hash",
    "eq",
    "contains_key",
    "remove",
    "push",
    "clear",
    "keys",
    "cloned",
    "copied",
    "to_owned",
    "to_vec",
    "lock_shared",
    "lock_exclusive",
    "try_lock_shared",
    "try_lock_exclusive",
    "unlock",
    "set_modified",
    "set_times",
];
const PASS_THROUGH_METHODS: &[&str] = &[
    // A `File`'s `try_clone` shares the open file's cursor: reading it moves the original's.
    "try_clone",
    "ok",
    "into_inner",
    "unwrap",
    "expect",
    "as_mut",
    "as_ref",
    "ok_or",
    "ok_or_else",
    "map_err",
    "as_deref",
    "as_deref_mut",
    "get",
    "get_mut",
    "deref",
    "deref_mut",
    "borrow",
    "borrow_mut",
    "context",
    "with_context",
    "iter_mut",
    "values_mut",
    "first_mut",
    "last_mut",
    "get_or_insert",
    "entry",
    "or_insert",
    "or_insert_with",
    "get_ref",
    "by_ref",
    "unwrap_or_else",
    "as_pin_mut",
];

/// One of the standard library's (or zip's, tar's) reading methods by its exact name,
/// as opposed to a method that only starts with `read_`.
pub fn is_std_read(method: &str) -> bool {
    READ_METHODS.contains(&method)
}

/// What calling `method` on an I/O value does to it.
impl IoUse {
    /// Work on a file's contents through its cursor: it waits for the disk.
    pub fn is_file_io(self) -> bool {
        matches!(self, IoUse::Read | IoUse::Write | IoUse::Positional)
    }
}

/// Inflaters whose reads decompress (`flate2`, `zstd`, `bzip2`, `xz2`, `lz4`, `snap`),
/// by type name.
const DECODERS: &[&str] = &[
    "GzDecoder",
    "MultiGzDecoder",
    "ZlibDecoder",
    "DeflateDecoder",
    "BzDecoder",
    "MultiBzDecoder",
    "XzDecoder",
    "Decoder",
    "FrameDecoder",
    "ZstdDecoder",
];

/// Does `expr` open a file or a socket (`File::open(p)?`, `OpenOptions::new()….open(p)`,
/// `BufReader::new(File::open(p)?)`, `UdpSocket::bind(a)?`, `TcpStream::connect(a)?`)?
/// Which, if so: reads and writes on it block.
pub fn opens_io_handle(expr: &syn::Expr) -> Option<&'static str> {
    match expr {
        syn::Expr::Try(t) => opens_io_handle(&t.expr),
        syn::Expr::Paren(p) => opens_io_handle(&p.expr),
        syn::Expr::MethodCall(m) => {
            let method = m.method.to_string();
            if method == "open" && quote::ToTokens::to_token_stream(&m.receiver).to_string().contains("OpenOptions") {
                Some("File")
            } else if hands_on_ownership(&method) {
                opens_io_handle(&m.receiver)
            } else {
                // A builder's product: `Command::new(p).arg(a).spawn()`, a blocking HTTP
                // client or agent built (`reqwest::blocking::Client::builder()….build()`).
                let root = match chain_start(&m.receiver) {
                    syn::Expr::Call(c) => call_opens_io_handle(c),
                    _ => None,
                };
                match (method.as_str(), root) {
                    ("spawn", Some("Command")) => Some("Child"),
                    ("build", Some(kind @ ("BlockingClient" | "UreqAgent"))) => Some(kind),
                    _ => None,
                }
            }
        }
        syn::Expr::Call(c) => call_opens_io_handle(c),
        _ => None,
    }
}

/// [`opens_io_handle`] for a call of a path (`File::open(p)`, `GzDecoder::new(r)`).
pub fn call_opens_io_handle(c: &syn::ExprCall) -> Option<&'static str> {
    let syn::Expr::Path(p) = &*c.func else { return None };
    // The last segments, compared in place: this runs on every call of a body.
    let mut rev = p.path.segments.iter().rev();
    let (f, ty) = (&rev.next()?.ident, &rev.next()?.ident);
    let module = rev.next().map(|s| &s.ident);
    if ty == "File" && (f == "open" || f == "create" || f == "create_new") {
        Some("File")
    } else if ty == "UdpSocket" && f == "bind" {
        Some("UdpSocket")
    } else if ty == "TcpStream" && f.to_string().starts_with("connect") {
        Some("TcpStream")
    } else if ty == "Client" && module.is_some_and(|m| m == "blocking") && (f == "new" || f == "builder") {
        // `reqwest::blocking::Client`: its requests' `send()` waits on the network.
        Some("BlockingClient")
    } else if (ty == "ureq" && (f == "agent" || f == "builder"))
        || ((ty == "Agent" || ty == "AgentBuilder") && module.is_some_and(|m| m == "ureq") && f == "new")
    {
        Some("UreqAgent")
    } else if f != "new" {
        None
    } else if ty == "BufReader" || ty == "BufWriter" {
        c.args.iter().find_map(opens_io_handle)
    } else if ty == "Command" {
        // A command to run: its `output()`/`status()` wait for the child.
        Some("Command")
    } else if ty == "ZipArchive" {
        // A zip archive, whose files inflate as they are read.
        Some("ZipArchive")
    } else if DECODERS.iter().any(|d| ty == d) {
        // An inflater over a buffer or a stream (`GzDecoder::new(&buf[..])`, `zstd::Decoder::new(f)`).
        Some("Decoder")
    } else {
        None
    }
}

/// Where a receiver chain starts: `Command::new(p)` in `Command::new(p).arg(a)?`,
/// `cmd!(..)` in `cmd!(..).stderr_capture()`.
pub fn chain_start(mut expr: &syn::Expr) -> &syn::Expr {
    loop {
        expr = match expr {
            syn::Expr::MethodCall(m) => &m.receiver,
            syn::Expr::Field(f) => &f.base,
            syn::Expr::Paren(p) => &p.expr,
            syn::Expr::Try(t) => &t.expr,
            other => return other,
        };
    }
}

/// Does `method` on an open I/O handle of `kind` wait on its disk or peer? Reads and
/// writes, and a UDP socket's datagram calls.
pub fn waits_on_handle(kind: &str, method: &str) -> bool {
    match kind {
        "Command" => matches!(method, "output" | "status"),
        "Child" => matches!(method, "wait" | "wait_with_output"),
        "BlockingClient" => matches!(method, "send" | "execute"),
        "UreqAgent" => method == "call",
        // Inflating is in the reads (an archive's `extract` inflates every file).
        "Decoder" | "ZipArchive" => {
            matches!(method, "read" | "read_exact" | "read_to_end" | "read_to_string" | "extract")
        }
        "UdpSocket" => {
            io_use(method).is_file_io()
                || matches!(method, "recv" | "recv_from" | "send" | "send_to" | "peek" | "peek_from")
        }
        _ => io_use(method).is_file_io(),
    }
}

/// How to show `method` called on an open handle of `kind` (a read through a zip
/// archive reads one of its files).
pub fn handle_call_name(kind: &str, method: &str) -> String {
    match kind {
        "ZipArchive" if method != "extract" => format!("ZipFile::{method}"),
        "BlockingClient" => format!("reqwest::blocking::RequestBuilder::{method}"),
        "UreqAgent" => format!("ureq::Request::{method}"),
        _ => format!("{kind}::{method}"),
    }
}

/// I/O handles a lock may hold to order their I/O: a file, a socket, a child process,
/// a writer.
const IO_HANDLES: &[&str] = &["File", "TcpStream", "UnixStream", "Child", "ChildStdin", "Stdout", "Stderr", "Write"];

/// Does `ty` hold an I/O handle (`File`, `BufWriter<File>`, `Option<TcpStream>`,
/// `Box<dyn Write + Send>`)?
pub fn is_io_handle_type(ty: &syn::Type) -> bool {
    is_io_handle_text(&quote::ToTokens::to_token_stream(ty).to_string())
}

/// [`is_io_handle_type`] for the text of types (a struct's fields).
pub fn is_io_handle_text(text: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| IO_HANDLES.contains(&w))
}

pub fn io_use(method: &str) -> IoUse {
    let is = |list: &[&str]| list.contains(&method);
    // `read_at`, `read_exact_at`, `read_vectored_at_volatile`: reads at an offset.
    let at_offset = method.starts_with("read") && method.split('_').any(|w| w == "at");
    if is(POSITIONAL_METHODS) || at_offset {
        IoUse::Positional
    } else if is(READ_METHODS) || (method.starts_with("read_") && !method.ends_with("_at")) {
        IoUse::Read
    } else if is(SEEK_METHODS) {
        IoUse::Seek
    } else if is(WRITE_METHODS) || method.starts_with("write_") {
        IoUse::Write
    } else if is(NEUTRAL_METHODS) {
        IoUse::Neutral
    } else if is(PASS_THROUGH_METHODS) {
        IoUse::PassThrough
    } else {
        IoUse::Unknown
    }
}

/// Free functions and their parameters that read (`io::copy(&mut reader, &mut writer)`
/// reads its first argument, writes its second); other positions of these are writes.
pub fn function_reads_argument(function: &str, index: usize) -> Option<bool> {
    match function {
        "copy" | "copy_buf" => Some(index == 0),
        "drop" | "take" | "replace" | "swap" | "forget" | "size_of_val" => Some(false),
        _ => None,
    }
}

/// Methods that give a shared view of a value (`cursor.get_ref()`): handing that on
/// cannot move the value's cursor.
const SHARED_VIEW_METHODS: &[&str] =
    &["get_ref", "as_ref", "get", "borrow", "deref", "as_deref", "as_slice", "as_bytes", "as_str", "iter", "len"];

/// Is `expr` a shared view of something (`x.get_ref()`, `&x`)?
pub fn gives_shared_view(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Reference(r) => r.mutability.is_none(),
        syn::Expr::MethodCall(m) => SHARED_VIEW_METHODS.contains(&m.method.to_string().as_str()),
        syn::Expr::Paren(p) => gives_shared_view(&p.expr),
        _ => false,
    }
}

/// Could these be the buffer arguments of a `Read` method (`&mut buf`, `buf`,
/// `buf.as_mut_slice()`), rather than an offset or a register number (`off as u8`, `4`)?
pub fn buffer_arguments(args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>) -> bool {
    args.iter().all(|arg| !matches!(arg, syn::Expr::Cast(_) | syn::Expr::Lit(_) | syn::Expr::Binary(_)))
}

/// Macros that write to their first argument.
pub fn macro_writes_first(name: &str) -> bool {
    matches!(name, "write" | "writeln")
}

// --- Sharing work with other threads, and waiting for it ------------------------------

/// Crates that run threads or simulated hosts under their own control (model checkers
/// explore every interleaving on purpose; a deterministic simulator steps its hosts on
/// the test's thread): code written against them races nothing by accident.
pub const CONTROLLED_SCHEDULERS: &[&str] = &["loom", "shuttle", "turmoil"];

/// Calls and methods that hand their closure or future to other threads.
pub const SPAWNS: &[&str] = &["spawn", "spawn_blocking", "spawn_local", "spawn_fifo", "spawn_scoped"];
/// Crates whose `spawn` makes a task that runs only when its caller polls or runs it, on
/// the caller's thread unless it hands it on: `tokio_test::task::spawn` wraps a future in
/// a mock task polled by hand; `async_task::spawn` returns the `Runnable` that runs it,
/// the building block of executors and their tests.
pub const HAND_RUN_TASKS: &[&str] = &["tokio_test", "async_task"];
/// Methods that put their argument into the structure they are called on.
pub const INSERTS: &[&str] = &[
    "insert",
    "push",
    "push_back",
    "push_front",
    "extend",
    "or_insert",
    "or_insert_with",
    "or_insert_with_key",
    "set",
    "store",
    "swap",
    "get_or_init",
];
/// Methods that move their argument to whoever holds the other end.
pub const SENDS: &[&str] = &["send", "try_send", "send_blocking", "send_timeout", "force_send", "unbounded_send"];
/// Methods and functions that wait for spawned work (on its handle, a set of handles,
/// or an object that owns the work it spawned: `writer.finish()`).
pub const JOIN_METHODS: &[&str] = &["join", "join_next", "join_all", "join_next_with_id", "wait", "finish", "shutdown"];
pub const JOIN_FNS: &[&str] = &["join_all", "try_join_all", "join", "try_join", "block_on"];
/// Macros that wait for the futures they are given.
pub const JOIN_MACROS: &[&str] = &["join", "try_join"];
/// Methods that wait for a message on a channel.
/// (`notified` is a `Notify`'s: the work holds a clone of it and calls `notify_*`.)
pub const RECEIVES: &[&str] =
    &["recv", "recv_timeout", "recv_deadline", "blocking_recv", "recv_async", "notified", "changed"];
/// Functions that make a channel, returning `(sender, receiver)`.
pub const CHANNELS: &[&str] = &["channel", "sync_channel", "bounded", "unbounded", "oneshot", "unbounded_channel"];
/// Methods that copy a handle (another `Arc` to the same value), not its contents.
pub const COPIES: &[&str] = &["clone", "to_owned", "into"];

/// Standard types that are no reader: a parameter of one (`path: &Path`) handed to another
/// crate (`File::create(path)`) is not read.
pub const NON_READER_TYPES: &[&str] = &[
    "Path", "PathBuf", "str", "String", "OsStr", "OsString", "bool", "char", "u8", "u16", "u32", "u64", "u128",
    "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64", "Duration",
];

/// Standard traits that give no way to read or seek a value: a type parameter bounded by
/// these alone (`T: AsRawFd + Send`) cannot be read by whatever it is handed to.
pub const NON_READING_TRAITS: &[&str] = &[
    "AsRawFd",
    "AsFd",
    "AsRawHandle",
    "AsHandle",
    "AsRawSocket",
    "AsSocket",
    "Debug",
    "Display",
    "Send",
    "Sync",
    "Clone",
    "Copy",
    "Sized",
    "Unpin",
    "Hash",
    "Eq",
    "PartialEq",
    "Ord",
    "PartialOrd",
    "Default",
];
/// Methods and functions that make a raw pointer into their receiver or argument.
pub const POINTERS: &[&str] = &["as_mut_ptr", "as_ptr", "from_ref", "from_mut", "addr_of_mut", "addr_of"];
/// Methods on a raw pointer that keep pointing at the same memory.
pub const POINTER_CASTS: &[&str] = &["cast", "cast_mut", "cast_const", "add", "offset"];

/// Methods that measure a collection: their result is only true at that instant.
pub fn measures(method: &str) -> bool {
    matches!(method, "len" | "is_empty" | "count" | "sum" | "capacity" | "product")
}

/// Methods that take items out of a collection, as a queue's consumer does.
pub fn takes_items(method: &str) -> bool {
    matches!(method, "pop" | "pop_front" | "pop_back" | "try_pop" | "drain" | "take" | "steal" | "swap_remove")
}

/// Methods that add to a collection.
pub fn fills(method: &str) -> bool {
    matches!(
        method,
        "push"
            | "push_back"
            | "push_front"
            | "push_str"
            | "extend"
            | "extend_from_slice"
            | "append"
            | "insert"
            | "write_all"
            | "or_insert"
            | "or_insert_with"
            | "or_default"
    )
}

/// Methods that empty or overwrite a collection for another use.
pub fn reuses(method: &str) -> bool {
    matches!(method, "clear" | "truncate" | "drain" | "retain" | "fill" | "resize" | "split_off" | "take" | "reset")
}

/// Methods that change a value in place (a spawned task that calls one on a map changes it).
pub fn mutates(method: &str) -> bool {
    fills(method) || reuses(method) || takes_items(method) || matches!(method, "remove" | "remove_if" | "remove_entry")
}

/// Macros that check their arguments (a check of a shared measurement is a flaky check).
pub fn asserts(name: &str) -> bool {
    name.starts_with("assert") || name.starts_with("debug_assert")
}

/// Macros that only format their arguments for people (printing, logging).
pub fn renders(name: &str) -> bool {
    matches!(
        name,
        "println"
            | "print"
            | "eprintln"
            | "eprint"
            | "format"
            | "write"
            | "writeln"
            | "format_args"
            | "trace"
            | "debug"
            | "info"
            | "warn"
            | "error"
            | "log"
            | "dbg"
            | "panic"
    )
}

/// Iterator methods whose closure runs once per item (a spawn in it spawns siblings).
pub fn iterates(method: &str) -> bool {
    matches!(
        method,
        "map"
            | "for_each"
            | "flat_map"
            | "filter_map"
            | "try_for_each"
            | "for_each_with"
            | "map_with"
            | "for_each_init"
            | "map_init"
    )
}

/// Standard combinators that call their closure before they return, on the caller's
/// thread (`entry(k).or_insert_with(|| ..)`, `opt.map(|v| ..)`, `v.retain(|x| ..)`): what
/// the closure does, the caller does, with the caller's guards alive. A closure given to
/// anything else may be stored or run elsewhere (a callback, a pool's job).
pub fn calls_closure_now(method: &str) -> bool {
    iterates(method)
        || matches!(
            method,
            // `Option`, `Result`, `bool`
            "map_err"
                | "map_or"
                | "map_or_else"
                | "and_then"
                | "or_else"
                | "unwrap_or_else"
                | "ok_or_else"
                | "is_some_and"
                | "is_none_or"
                | "is_ok_and"
                | "is_err_and"
                | "get_or_insert_with"
                | "inspect"
                | "then"
                // map entries and once-cells
                | "or_insert_with"
                | "or_insert_with_key"
                | "and_modify"
                | "get_or_init"
                | "get_or_try_init"
                // iterators and collections
                | "filter"
                | "find"
                | "find_map"
                | "any"
                | "all"
                | "position"
                | "fold"
                | "try_fold"
                | "take_while"
                | "skip_while"
                | "partition"
                | "max_by_key"
                | "min_by_key"
                | "retain"
                | "retain_mut"
                | "sort_by"
                | "sort_by_key"
                | "sort_unstable_by"
                | "sort_unstable_by_key"
                // thread-locals
                | "with"
                | "with_borrow"
                | "with_borrow_mut"
        )
}

/// `Option`/`Result` combinators that move the value they are called on into their
/// closure (`m.lock().map(|g| g.len())`): a guard moved in drops when the closure returns.
pub fn moves_into_closure(method: &str) -> bool {
    matches!(method, "map" | "and_then" | "map_or" | "map_or_else" | "is_some_and" | "is_ok_and" | "is_none_or")
}

/// Calls whose closure may spawn work that is joined when the call returns.
pub const SCOPES: &[&str] = &["scope", "scope_fifo", "in_place_scope", "in_place_scope_fifo"];

/// Methods that run work on other threads: a spawn, a scope, a parallel iterator.
pub fn starts_threads(method: &str) -> bool {
    SPAWNS.contains(&method)
        || SCOPES.contains(&method)
        || method.starts_with("par_")
        || method.contains("_par_")
        || method == "into_par_iter"
}

/// Functions that run work on other threads: those methods' names, and `rayon::join`
/// (a method `join` waits for a thread, or joins a path).
pub fn calls_start_threads(function: &str) -> bool {
    starts_threads(function) || function == "join"
}

/// Modules of test code and of the helpers tests share.
const TEST_MODULES: &[&str] =
    &["test", "tests", "testing", "test_util", "test_utils", "testutil", "testutils", "test_support", "test_helpers"];

/// Is a module of this name test code (`tests`, `test_util`, `lock_tests`)?
pub fn names_test_module(name: &str) -> bool {
    TEST_MODULES.contains(&name) || name.ends_with("_test") || name.ends_with("_tests")
}

/// Modules of programs that show the code at work (a `demo` subcommand making
/// contention on purpose), as `examples/` does, or time it, as `benches/` does.
const DEMO_MODULES: &[&str] = &["demo", "demos", "example", "examples", "bench", "benches", "benchmark", "benchmarks"];

pub fn names_demo_module(name: &str) -> bool {
    DEMO_MODULES.contains(&name)
}

/// Is a package of this library name there for tests (`test_raftstore`,
/// `foo_test_utils`, `foo_testing`)?
pub fn names_test_support_package(lib_name: &str) -> bool {
    lib_name.starts_with("test_")
        || ["_test_utils", "_test_util", "_test_support", "_testing", "_test_helpers"]
            .iter()
            .any(|s| lib_name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn called_paths_are_read_through_the_scopes_imports() {
        let path = |p: &str| p.split("::").map(String::from).collect::<Vec<_>>();
        let imports: Imports = [
            ("slurp", "std::fs::read_to_string"),
            ("fs", "std::fs"),
            ("afs", "tokio::fs"),
            ("io", "{extern}::std::io"),
            ("a", "b"),
            ("b", "a"),
        ]
        .into_iter()
        .map(|(name, target)| (name.to_string(), path(target)))
        .collect();
        let imports = ImportScopes::of(&imports);
        let expand = |p: &str| expand_path(path(p), Some(&imports)).join("::");
        assert_eq!(expand("slurp"), "std::fs::read_to_string");
        assert_eq!(expand("fs::read"), "std::fs::read");
        assert_eq!(expand("afs::read"), "tokio::fs::read");
        assert_eq!(expand("io::copy"), "std::io::copy", "markers are not names");
        assert_eq!(expand("std::fs::read"), "std::fs::read", "nothing imported as `std`");
        assert_eq!(expand("a::x").split("::").count(), 2, "an import cycle ends");
        let call = |text: &str| {
            let syn::Expr::Call(c) = syn::parse_str::<syn::Expr>(text).expect("call") else { panic!("not a call") };
            blocking_function_in(&c, Some(&imports))
        };
        assert_eq!(call("slurp(p)").as_deref(), Some("std::fs::read_to_string"));
        assert_eq!(call("afs::read(p)"), None, "an async runtime's file call returns a future");
        assert_eq!(call("tokio::time::sleep(d)"), None);
        assert_eq!(call("fs::metadata(p)").as_deref(), Some("std::fs::metadata"));
        assert_eq!(call("fs_err::create_dir(p)").as_deref(), Some("std::fs::create_dir"));
    }

    #[test]
    fn every_way_to_take_a_lock_is_a_prefilter_word() {
        for (method, _) in ACQUIRE_METHODS {
            let call = format!("{method}()");
            assert!(
                LOCK_WORDS.contains(method) || LOCK_WORDS.contains(&call.as_str()),
                "`{method}` takes a lock, but a file calling it would be skipped by the prefilter"
            );
        }
    }

    #[test]
    fn read_with_no_argument_takes_a_lock_and_with_one_reads() {
        assert_eq!(acquire("read", 0), Some(Acquire::Shared));
        assert_eq!(acquire("read", 1), None);
        assert_eq!(acquire("try_lock_for", 1), Some(Acquire::Exclusive));
        assert_eq!(io_use("read"), IoUse::Read);
    }

    #[test]
    fn io_uses() {
        assert_eq!(io_use("read_u32"), IoUse::Read);
        assert_eq!(io_use("read_exact_at"), IoUse::Positional);
        assert_eq!(io_use("read_vectored_at_volatile"), IoUse::Positional);
        assert_eq!(io_use("seek"), IoUse::Seek);
        assert_eq!(io_use("write_u8"), IoUse::Write);
        assert_eq!(io_use("as_raw_fd"), IoUse::Neutral);
        assert_eq!(io_use("as_mut"), IoUse::PassThrough);
        assert_eq!(io_use("module_info"), IoUse::Unknown);
        assert_eq!(function_reads_argument("copy", 0), Some(true));
        assert_eq!(function_reads_argument("copy", 1), Some(false));
    }
}
