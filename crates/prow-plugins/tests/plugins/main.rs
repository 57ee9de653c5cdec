//! Integration tests: every plugin against FakeGitHub and MemoryStore through the real
//! dispatcher. Tables are ported from Prow's Go tests where they exist.

#![allow(
    clippy::type_complexity,
    reason = "table-driven tests use tuple rows like Prow's Go tables"
)]

mod world;

mod approve;
mod corpus;
mod dispatch;
mod hold;
mod jobs;
mod label;
mod lgtm;
mod owners;
mod reclock;
mod simple;
mod trigger_comment;
mod trigger_pr;
