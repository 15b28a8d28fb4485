//! Where a host call stops the connector's clock: the capabilities that
//! work or wait for the connector hold a [`HostSide`] for the length of
//! each of their calls.

/// A call's guest clock, as the host calls that stop it see it (see
/// `engine::guest_clock`).
pub(crate) trait GuestTime: Send {
    /// The connector called the host: its clock stops. Whether it was
    /// running (a host call made during instantiation finds it stopped).
    fn host_call(&mut self) -> bool;
    /// The host call returns to the connector: its clock runs again.
    fn back_to_guest(&mut self);
}

/// A host call on the host's side of the wall: the call's guest clock is
/// stopped while this lives. The views of the capabilities that work or
/// wait for the connector (`http`, `crypto`, `log`) each hold one; the
/// generated bindings make a view for each host call and drop it when the
/// call returns, after any `await`.
pub(crate) struct HostSide<'a> {
    clock: &'a mut dyn GuestTime,
    /// Whether the clock was running, to be started again.
    restart: bool,
}

impl<'a> HostSide<'a> {
    /// Stops `clock` until the returned value is dropped.
    pub(crate) fn new(clock: &'a mut dyn GuestTime) -> Self {
        let restart = clock.host_call();
        HostSide { clock, restart }
    }
}

impl Drop for HostSide<'_> {
    fn drop(&mut self) {
        if self.restart {
            self.clock.back_to_guest();
        }
    }
}
