// The crate's own module named `std` is not the standard library, except via `crate::`.
pub mod std {
    pub mod fs {
        pub struct File;
    }
}

mod device {
    use std::fs::File;
    type ProbeExternStd = File; // => extern std::fs::File
    type ProbeOwnStd = crate::std::fs::File; // => crate::std::fs::File
}
