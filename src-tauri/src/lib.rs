//! The desktop app: wires the engine into a Tauri window.

pub fn run() {}
