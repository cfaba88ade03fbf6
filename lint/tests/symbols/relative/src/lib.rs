// `crate::`, `super::`, `self::` and child modules, inline and from files with `#[path]`.
pub struct Top;

pub mod a {
    pub struct Middle;
    pub mod b {
        pub struct Bottom;
        type ProbeSuper = super::Middle; // => crate::a::Middle
        type ProbeSuperSuper = super::super::Top; // => crate::Top
        type ProbeCrate = crate::a::b::Bottom; // => crate::a::b::Bottom
        type ProbeSelf = self::Bottom; // => crate::a::b::Bottom
    }
    type ProbeChild = b::Bottom; // => crate::a::b::Bottom
}

#[path = "elsewhere/renamed_file.rs"]
pub mod renamed;

type ProbePathAttribute = renamed::Moved; // => crate::renamed::Moved
type ProbePrelude = Option<u8>; // => extern std::option::Option
type ProbeUnknownSingle = Mystery; // => unknown
