// An item defined under `#[cfg]` alternatives has each of its forms.
#[cfg(unix)]
pub type RawFile = std::fs::File;
#[cfg(not(unix))]
pub type RawFile = u32;

type ProbeForms = RawFile; // => crate::RawFile (2 forms)
