//! Integration tests: the conformance suite against every backend, then backend specifics.

mod conformance;
mod kube;
mod sqlite;
