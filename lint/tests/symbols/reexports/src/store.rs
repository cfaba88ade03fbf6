mod imp {
    pub struct Archive;
    pub struct Entry;
}
pub use self::imp::Archive;
pub use imp::*;
