//! The one integration-test binary of the workspace: conformance against third-party vectors,
//! interop against the official SDKs, and end-to-end flows.

mod bill;
mod bill_download;
mod browser;
mod client;
mod conformance;
mod emulator;
mod interop;
mod model;
mod notify;
mod python_interop;
mod redirect_interop;
mod support;
