pub struct File;
pub struct FileIterator;
