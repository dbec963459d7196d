//! Cross-runtime tests live in tests/.
