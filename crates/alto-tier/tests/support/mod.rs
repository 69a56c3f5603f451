//! Test support shared by the integration tests.

#![allow(dead_code, unreachable_pub)]

pub mod azurite;
pub mod checks;
pub mod moto;
