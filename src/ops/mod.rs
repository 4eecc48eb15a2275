//! The offline commands: `check`, `gc`, `rules` and `replay`.

pub mod check;
pub mod gc;
pub mod replay;
pub mod rules;
