//! A source bundle: a zip of minified JavaScript files, their source maps, and a
//! `manifest.json` mapping each file's URL to its path in the archive. Many threads
//! look files up by URL, as a crash-processing service does for every event.
//!
//! Three designs, as in the incident:
//! - [`SharedMutexBundle`]: one parsed archive behind one lock. Every lookup queues on it.
//! - [`ClonePerReaderBundle`]: each worker clones the archive (cheap over `&[u8]`).
//! - [`IndexedBundle`]: the central directory parsed once into offsets; reads go straight
//!   to the shared `&[u8]` with no lock, and decompressed files are cached.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::sync::Arc;
use zip::write::SimpleFileOptions;
use zip::ZipArchive;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Serialize, Deserialize)]
pub struct Manifest {
    pub files: Vec<ManifestEntry>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct ManifestEntry {
    pub url: String,
    pub path: String,
    pub sourcemap: Option<String>,
}

/// A small deterministic generator, so bundles and lookups are the same every run.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

fn minified_js(rng: &mut XorShift, bytes: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "function",
        "return",
        "var ",
        "const ",
        "this.",
        "=>",
        "null",
        "undefined",
        "prototype",
        "window.",
        "document.",
        "addEventListener(",
        "){",
        "};",
        "if(",
        "else{",
        "for(",
        "new ",
        "Promise",
        "async ",
    ];
    let mut out = Vec::with_capacity(bytes);
    while out.len() < bytes {
        out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
        let ident = rng.below(1 << 20);
        out.extend_from_slice(format!("a{ident:x}").as_bytes());
        out.push(b"(),.;=+"[rng.below(7) as usize]);
    }
    out.truncate(bytes);
    out
}

/// Write a realistic bundle: `files` minified scripts of 2–64 KiB, each with a source
/// map, deflate-compressed, and a manifest.
pub fn generate_bundle(files: usize, seed: u64) -> Result<Vec<u8>, Error> {
    let mut rng = XorShift::new(seed);
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut manifest = Manifest { files: Vec::new() };
    for i in 0..files {
        let path = format!("files/_/_/static/js/chunk-{i:04}.min.js");
        let map_path = format!("{path}.map");
        let size = 2048 + rng.below(62 * 1024) as usize;
        writer.start_file(path.as_str(), options)?;
        writer.write_all(&minified_js(&mut rng, size))?;
        writer.start_file(map_path.as_str(), options)?;
        let mappings = minified_js(&mut rng, size / 2);
        writer.write_all(
            format!("{{\"version\":3,\"mappings\":\"{}\"}}", String::from_utf8_lossy(&mappings)).as_bytes(),
        )?;
        manifest.files.push(ManifestEntry {
            url: format!("https://example.com/static/js/chunk-{i:04}.min.js"),
            path,
            sourcemap: Some(map_path),
        });
    }
    writer.start_file("manifest.json", options)?;
    writer.write_all(&serde_json::to_vec(&manifest)?)?;
    Ok(writer.finish()?.into_inner())
}

fn read_manifest(archive: &mut ZipArchive<Cursor<&[u8]>>) -> Result<HashMap<String, String>, Error> {
    let mut text = String::new();
    archive.by_name("manifest.json")?.read_to_string(&mut text)?;
    let manifest: Manifest = serde_json::from_str(&text)?;
    Ok(manifest.files.into_iter().map(|f| (f.url, f.path)).collect())
}

/// Serves file lookups by URL. `reader` gives each worker thread its own handle.
pub trait Bundle: Sync {
    fn reader(&self) -> Box<dyn Reader + '_>;
    fn urls(&self) -> Vec<String>;
}

pub trait Reader {
    /// The file's decompressed length, or `None` if the URL is not in the manifest.
    fn lookup(&mut self, url: &str) -> Result<Option<usize>, Error>;
}

/// The original design: one archive, one lock, shared by every event.
pub struct SharedMutexBundle<'d> {
    manifest: HashMap<String, String>,
    archive: lockscope::Mutex<ZipArchive<Cursor<&'d [u8]>>>,
}

impl<'d> SharedMutexBundle<'d> {
    pub fn open(data: &'d [u8]) -> Result<Self, Error> {
        let mut archive = ZipArchive::new(Cursor::new(data))?;
        let manifest = read_manifest(&mut archive)?;
        Ok(SharedMutexBundle { manifest, archive: lockscope::Mutex::named("bundle-archive", archive) })
    }
}

impl Bundle for SharedMutexBundle<'_> {
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(SharedReader(self))
    }

    fn urls(&self) -> Vec<String> {
        self.manifest.keys().cloned().collect()
    }
}

struct SharedReader<'b, 'd>(&'b SharedMutexBundle<'d>);

impl Reader for SharedReader<'_, '_> {
    fn lookup(&mut self, url: &str) -> Result<Option<usize>, Error> {
        let Some(path) = self.0.manifest.get(url) else { return Ok(None) };
        let _span = tracing::trace_span!("lookup_file").entered();
        let mut archive = self.0.archive.lock();
        let mut bytes = Vec::new();
        archive.by_name(path)?.read_to_end(&mut bytes)?;
        Ok(Some(bytes.len()))
    }
}

/// The first fix: the parsed archive is cloned for each reader (cheap: the cursor is
/// over borrowed bytes and the central directory is shared).
pub struct ClonePerReaderBundle<'d> {
    manifest: Arc<HashMap<String, String>>,
    archive: ZipArchive<Cursor<&'d [u8]>>,
}

impl<'d> ClonePerReaderBundle<'d> {
    pub fn open(data: &'d [u8]) -> Result<Self, Error> {
        let mut archive = ZipArchive::new(Cursor::new(data))?;
        let manifest = Arc::new(read_manifest(&mut archive)?);
        Ok(ClonePerReaderBundle { manifest, archive })
    }
}

impl Bundle for ClonePerReaderBundle<'_> {
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(CloneReader { manifest: self.manifest.clone(), archive: self.archive.clone() })
    }

    fn urls(&self) -> Vec<String> {
        self.manifest.keys().cloned().collect()
    }
}

struct CloneReader<'d> {
    manifest: Arc<HashMap<String, String>>,
    archive: ZipArchive<Cursor<&'d [u8]>>,
}

impl Reader for CloneReader<'_> {
    fn lookup(&mut self, url: &str) -> Result<Option<usize>, Error> {
        let Some(path) = self.manifest.get(url) else { return Ok(None) };
        let mut bytes = Vec::new();
        self.archive.by_name(path)?.read_to_end(&mut bytes)?;
        Ok(Some(bytes.len()))
    }
}

/// Where an entry's compressed bytes sit in the bundle.
#[derive(Clone, Copy)]
struct EntryLocation {
    data_start: usize,
    compressed_size: usize,
    deflated: bool,
}

/// Decompressed files kept at most (a bounded cache, cleared when full).
pub const CACHE_FILES: usize = 256;

/// The better fix: offsets parsed once, reads by offset from the shared `&[u8]` (an mmap
/// in production) with no lock, and decompressed files cached so repeated lookups cost
/// a hash lookup.
pub struct IndexedBundle<'d> {
    data: &'d [u8],
    index: HashMap<String, EntryLocation>,
    // Read-mostly: hits take a shared lock; only misses write.
    cache: lockscope::RwLock<HashMap<String, Arc<[u8]>>>,
}

impl<'d> IndexedBundle<'d> {
    pub fn open(data: &'d [u8]) -> Result<Self, Error> {
        let mut archive = ZipArchive::new(Cursor::new(data))?;
        let manifest = read_manifest(&mut archive)?;
        let mut by_path = HashMap::new();
        for i in 0..archive.len() {
            let entry = archive.by_index_raw(i)?;
            let data_start = entry.data_start().ok_or("entry without a data offset")?;
            let location = EntryLocation {
                data_start: usize::try_from(data_start)?,
                compressed_size: usize::try_from(entry.compressed_size())?,
                deflated: entry.compression() == zip::CompressionMethod::Deflated,
            };
            by_path.insert(entry.name()?.to_string(), location);
        }
        let index = manifest.into_iter().filter_map(|(url, path)| Some((url, *by_path.get(&path)?))).collect();
        Ok(IndexedBundle { data, index, cache: lockscope::RwLock::named("decompressed-cache", HashMap::new()) })
    }

    fn decompress(&self, location: EntryLocation) -> Result<Arc<[u8]>, Error> {
        let end = location.data_start.checked_add(location.compressed_size).ok_or("entry out of range")?;
        let raw = self.data.get(location.data_start..end).ok_or("entry out of range")?;
        if !location.deflated {
            return Ok(Arc::from(raw));
        }
        let mut bytes = Vec::new();
        flate2::read::DeflateDecoder::new(raw).read_to_end(&mut bytes)?;
        Ok(Arc::from(bytes))
    }
}

impl Bundle for IndexedBundle<'_> {
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(IndexedReader(self))
    }

    fn urls(&self) -> Vec<String> {
        self.index.keys().cloned().collect()
    }
}

struct IndexedReader<'b, 'd>(&'b IndexedBundle<'d>);

impl Reader for IndexedReader<'_, '_> {
    fn lookup(&mut self, url: &str) -> Result<Option<usize>, Error> {
        let bundle = self.0;
        let Some(&location) = bundle.index.get(url) else { return Ok(None) };
        if let Some(hit) = bundle.cache.read().get(url) {
            return Ok(Some(hit.len()));
        }
        let bytes = bundle.decompress(location)?;
        let len = bytes.len();
        let mut cache = bundle.cache.write();
        if cache.len() >= CACHE_FILES {
            cache.clear();
        }
        cache.insert(url.to_string(), bytes);
        Ok(Some(len))
    }
}

/// URLs drawn from a Zipf-like distribution (rank r with weight 1/r), as real traffic
/// concentrates on a few popular files.
pub fn zipf_lookups(urls: &[String], count: usize, seed: u64) -> Vec<usize> {
    let mut cumulative = Vec::with_capacity(urls.len());
    let mut total = 0.0;
    for rank in 1..=urls.len() {
        total += 1.0 / rank as f64;
        cumulative.push(total);
    }
    let mut rng = XorShift::new(seed);
    (0..count)
        .map(|_| {
            let x = (rng.next_u64() as f64 / u64::MAX as f64) * total;
            cumulative.partition_point(|&c| c < x).min(urls.len().saturating_sub(1))
        })
        .collect()
}
