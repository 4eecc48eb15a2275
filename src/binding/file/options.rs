//! `OPTION_<code>=<value>` (DHCPv4) and `OPTION6_<code>=<value>` (DHCPv6):
//! options the VM gets besides those nfdhcpd sets, before the config's
//! `[options]` of the same code. The value syntax, the codes refused and
//! when an option is sent are in [`crate::value::options`]; here, the
//! binding file's side: which keys are options, and an error that names
//! the file, the key and the value.

use super::{BadOption, BindingError};
use crate::value::options::{Customs, PREFIX4, PREFIX6};

/// True for a key that names an option (valid or not: a bad code is an
/// error, not an unknown key silently ignored).
pub fn is_key(key: &str) -> bool {
    key.starts_with(PREFIX4) || key.starts_with(PREFIX6)
}

/// The options of binding file `file` from its option pairs.
pub fn parse(file: &str, pairs: &[(&str, &str)]) -> Result<Customs, BindingError> {
    Customs::parse(pairs.iter().copied()).map_err(|(key, value, reason)| {
        BindingError::BadOption(Box::new(BadOption {
            file: file.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            reason,
        }))
    })
}
