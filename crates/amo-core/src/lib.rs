//! The amo-connector engine.
