fn main() {
    // napi_build only matters for the Node addon; the core's `cargo test` links without it.
    if std::env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }
}
