//! A local amoCRM emulator.
