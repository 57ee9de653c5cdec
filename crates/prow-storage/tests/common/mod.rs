//! Shared test support: emulators and the conformance contract.
#![allow(dead_code)]

pub mod conformance;
pub mod emulators;
