//! Pure rules of training: the run aggregate and how failures are named.

pub mod aggregate;
pub mod failure;
pub mod run;
