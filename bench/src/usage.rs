//! What this process has used so far (`getrusage`, every thread): CPU
//! time split into user and kernel, and how often its threads gave up
//! the processor.

/// A reading of this process's resource use.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Usage {
    /// CPU time in user space, in nanoseconds.
    pub(crate) user_ns: u128,
    /// CPU time in the kernel, in nanoseconds.
    pub(crate) system_ns: u128,
    /// Times a thread waited for something (a futex, epoll, a read).
    pub(crate) voluntary: u64,
}

impl Usage {
    /// The process's use up to now.
    pub(crate) fn now() -> Usage {
        // SAFETY: getrusage writes into the struct it is given.
        #[allow(unsafe_code)]
        let usage = unsafe {
            let mut usage = std::mem::zeroed::<libc::rusage>();
            libc::getrusage(libc::RUSAGE_SELF, &mut usage);
            usage
        };
        let ns = |t: libc::timeval| t.tv_sec as u128 * 1_000_000_000 + t.tv_usec as u128 * 1_000;
        Usage {
            user_ns: ns(usage.ru_utime),
            system_ns: ns(usage.ru_stime),
            voluntary: u64::try_from(usage.ru_nvcsw).unwrap_or_default(),
        }
    }

    /// User and kernel time together, in nanoseconds.
    pub(crate) fn cpu_ns(&self) -> u128 {
        self.user_ns + self.system_ns
    }

    /// What was used between `earlier` and this reading.
    pub(crate) fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
            system_ns: self.system_ns.saturating_sub(earlier.system_ns),
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
        }
    }

    /// The sum of two spans of use.
    pub(crate) fn plus(&self, other: &Usage) -> Usage {
        Usage {
            user_ns: self.user_ns + other.user_ns,
            system_ns: self.system_ns + other.system_ns,
            voluntary: self.voluntary + other.voluntary,
        }
    }
}
