pub struct Moved;
