//! The crypto backends. Each file is compiled only with its feature.

#[cfg(feature = "aws-lc-rs")]
pub(crate) mod aws;
#[cfg(feature = "rust-crypto")]
pub(crate) mod rc;
