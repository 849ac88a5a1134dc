//! The server crate is the `basalt` binary (see main.rs).
