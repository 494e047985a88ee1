//! One file per kind of input preprocessing handles.

pub mod readings;
