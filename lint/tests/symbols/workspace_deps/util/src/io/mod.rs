pub struct Reader;
