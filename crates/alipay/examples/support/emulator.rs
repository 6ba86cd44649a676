//! Shared by the examples: an emulator on 127.0.0.1 and a client configured for it.

use std::error::Error;

use alipay::{Client, Environment};
use alipay_emulator::Emulator;

/// Starts the emulator and builds a client for its default app.
pub(crate) async fn emulator_and_client() -> Result<(Emulator, Client), Box<dyn Error>> {
    let emulator = Emulator::start().await?;
    let app = emulator.app();
    let key = app
        .app_private_key_pem
        .as_deref()
        .ok_or("the emulator did not generate an app key")?;
    let client = Client::builder()
        .app_id(app.app_id.clone())
        .app_private_key(key.as_bytes())
        .alipay_public_key(app.alipay_public_key_pem.as_bytes())
        .environment(Environment::custom_with_v3(
            &emulator.gateway_url(),
            emulator.v3_url(),
        )?)
        .build()?;
    Ok((emulator, client))
}
