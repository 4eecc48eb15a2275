//! The offline commands: `check`, `explain`, `gc`, `rules` and `replay`.

pub mod check;
pub mod explain;
pub mod gc;
pub mod replay;
pub mod rules;
