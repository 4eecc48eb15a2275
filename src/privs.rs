//! Dropping privileges: after the queues are bound and the sockets open,
//! the daemon (started as root with `user` set) switches to that user and
//! keeps only CAP_NET_ADMIN (verdicts on nfnetlink) and CAP_NET_RAW
//! (AF_PACKET sends), in the permitted, effective and bounding sets.
//!
//! PR_SET_NO_NEW_PRIVS is set as well.
//!
//! It must run while the process has a single thread: capabilities are
//! per thread, and threads created afterwards inherit the reduced sets.

use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Gid, Uid, User};

/// The capabilities kept.
pub const KEPT: [Capability; 2] = [Capability::CAP_NET_ADMIN, Capability::CAP_NET_RAW];

/// Why the switch failed.
#[derive(Debug, thiserror::Error)]
pub enum PrivError {
    /// No such user.
    #[error("user {0:?} does not exist")]
    NoUser(String),
    /// Looking the user up failed.
    #[error("looking up user {user:?}: {source}")]
    Lookup {
        /// Name.
        user: String,
        /// Cause.
        source: nix::Error,
    },
    /// A credential syscall failed.
    #[error("{what}: {source}")]
    Syscall {
        /// What was attempted.
        what: &'static str,
        /// Cause.
        source: nix::Error,
    },
    /// A capability call failed.
    #[error("{what}: {source}")]
    Caps {
        /// What was attempted.
        what: &'static str,
        /// Cause.
        source: caps::errors::CapsError,
    },
}

/// The kept set.
pub fn kept() -> CapsHashSet {
    KEPT.into_iter().collect()
}

/// Switches to `name`, keeping [`KEPT`]. Returns the uid and gid switched to.
pub fn drop_to(name: &str) -> Result<(Uid, Gid), PrivError> {
    let user = User::from_name(name)
        .map_err(|source| PrivError::Lookup {
            user: name.into(),
            source,
        })?
        .ok_or_else(|| PrivError::NoUser(name.into()))?;
    let sys = |what| move |source| PrivError::Syscall { what, source };
    let cap = |what| move |source| PrivError::Caps { what, source };
    // Bounding set first: dropping from it needs CAP_SETPCAP, still ours.
    let keep = kept();
    for c in caps::read(None, CapSet::Bounding).map_err(cap("reading the bounding set"))? {
        if !keep.contains(&c) {
            caps::drop(None, CapSet::Bounding, c).map_err(cap("dropping from the bounding set"))?;
        }
    }
    // No exec'd program may gain privileges again (setuid binaries, file
    // capabilities): the daemon execs nothing, so this only closes doors.
    nix::sys::prctl::set_no_new_privs().map_err(sys("prctl(PR_SET_NO_NEW_PRIVS)"))?;
    nix::sys::prctl::set_keepcaps(true).map_err(sys("prctl(PR_SET_KEEPCAPS)"))?;
    nix::unistd::setgroups(&[user.gid]).map_err(sys("setgroups"))?;
    nix::unistd::setresgid(user.gid, user.gid, user.gid).map_err(sys("setresgid"))?;
    nix::unistd::setresuid(user.uid, user.uid, user.uid).map_err(sys("setresuid"))?;
    nix::sys::prctl::set_keepcaps(false).map_err(sys("prctl(PR_SET_KEEPCAPS, 0)"))?;
    caps::set(None, CapSet::Inheritable, &CapsHashSet::new())
        .map_err(cap("clearing the inheritable set"))?;
    caps::set(None, CapSet::Permitted, &keep).map_err(cap("setting the permitted set"))?;
    caps::set(None, CapSet::Effective, &keep).map_err(cap("setting the effective set"))?;
    Ok((user.uid, user.gid))
}
