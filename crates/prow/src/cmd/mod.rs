//! One module per subcommand.

pub mod bench;
pub mod bench_trigger;
pub mod checkconfig;
pub mod components;
pub mod crd;
pub mod deck;
pub mod hook;
pub mod jobstore;
pub mod local;
pub mod local_artifacts;
pub mod local_host;
pub mod local_web;
pub mod merging;
pub mod mkpj;
