//! One module per subcommand.

pub mod bench;
pub mod checkconfig;
pub mod crd;
