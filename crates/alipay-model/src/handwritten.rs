//! Hand-written additions to generated family modules: `handwritten/<module>.rs` is re-exported by
//! `generated/<module>.rs` (codegen emits `pub use crate::handwritten::<module>::*;` when the file
//! exists). See `docs/codegen.md`.

#[cfg(feature = "data")]
pub(crate) mod data;
#[cfg(feature = "fund")]
pub(crate) mod fund;
#[cfg(feature = "system")]
pub(crate) mod system;
#[cfg(feature = "trade")]
pub(crate) mod trade;
#[cfg(feature = "user")]
pub(crate) mod user;
