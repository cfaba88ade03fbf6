// `extern crate a as b` renames a crate for the whole crate; `::a` is always the crate.
extern crate parking_lot as pl;
extern crate self as me;

pub struct Local;

type ProbeRoot = pl::Mutex<u8>; // => extern parking_lot::Mutex
type ProbeSelf = me::Local; // => crate::Local

mod deep {
    use ::tokio::sync::RwLock;
    type ProbeAliasEverywhere = pl::RwLock<u8>; // => extern parking_lot::RwLock
    type ProbeLeadingColons = RwLock<u8>; // => extern tokio::sync::RwLock
}
