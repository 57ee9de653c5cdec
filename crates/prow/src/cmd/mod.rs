//! One module per subcommand.

pub mod bench;
pub mod bench_trigger;
pub mod checkconfig;
pub mod components;
pub mod crd;
pub mod hook;
pub mod jobstore;
pub mod local;
pub mod merging;
pub mod mkpj;
