//! The lifecycle of a tiered file: the one transition table every store obeys.
//!
//! A tier object is created PLANNED by the planner, becomes STUBBED when a worker has copied,
//! verified and stubbed the file, REHYDRATED when it is brought back, and DELETED when the file is
//! gone. A rehydrated (or deleted-then-recreated) file may be planned again: that starts a new
//! incarnation of the same object. A plan may be withdrawn (the file no longer qualifies, changed,
//! or was accessed): the object then leaves PLANNED and the path is free to be planned afresh.
//! Anything else is refused with [`ErrorKind::InvalidTransition`](crate::ErrorKind) — never a
//! silent write. Stores apply transitions with optimistic concurrency: the caller names the state
//! and version it read, and the store refuses with `Conflict` when either has moved.
//!
//! **LOST is a flag, not a state.** Reconciliation ([`crate::reconcile`]) flags a STUBBED object
//! whose data the tier target no longer holds as it was recorded (missing, another size, another
//! entity tag or digest): [`TierObject::lost`](crate::TierObject::lost). The file is still a stub
//! and its record still says where the data should be, so every transition of the table stays as
//! it is; [`may_flag_lost`] says in which state the flag may be set or cleared (STUBBED only), the
//! transitions out of STUBBED keep it (the history of a deleted or rehydrated file says its object
//! had been lost), and a new incarnation clears it with the rest of what was stored.

use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a tiered file is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum TierState {
    /// Chosen by a rule; a job will tier it. Counts as "in flight".
    Planned,
    /// Copied to tier 2, verified, and replaced by a stub.
    Stubbed,
    /// Brought back from tier 2; the original bytes are on primary storage again.
    Rehydrated,
    /// The file was deleted on primary storage.
    Deleted,
}

impl TierState {
    /// All states, in lifecycle order.
    pub const ALL: [TierState; 4] = [
        TierState::Planned,
        TierState::Stubbed,
        TierState::Rehydrated,
        TierState::Deleted,
    ];

    /// The stored spelling: `PLANNED`, `STUBBED`, `REHYDRATED`, `DELETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            TierState::Planned => "PLANNED",
            TierState::Stubbed => "STUBBED",
            TierState::Rehydrated => "REHYDRATED",
            TierState::Deleted => "DELETED",
        }
    }

    /// Whether the planner must leave a file in this state alone: already stubbed. A PLANNED
    /// file is evaluated again and listed while it still qualifies, so committing the plan keeps
    /// it (`already_planned`, or `requeued` when its job has ended) instead of withdrawing it as
    /// no longer qualifying.
    pub fn blocks_planning(self) -> bool {
        matches!(self, TierState::Stubbed)
    }
}

impl fmt::Display for TierState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TierState {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TierState::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "unknown tier state {s:?}: expected PLANNED, STUBBED, REHYDRATED or DELETED"
                ))
            })
    }
}

/// What is being done to a tier object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The planner chose the file (new object, or a new incarnation of a rehydrated/deleted one).
    Plan,
    /// The plan is taken back: the file no longer qualifies, changed, or was accessed.
    Withdraw,
    /// A worker copied, verified and stubbed the file.
    Stub,
    /// The file was brought back from tier 2.
    Rehydrate,
    /// The file was deleted on primary storage.
    Delete,
}

impl Action {
    /// All actions.
    pub const ALL: [Action; 5] = [
        Action::Plan,
        Action::Withdraw,
        Action::Stub,
        Action::Rehydrate,
        Action::Delete,
    ];

    /// The action's name as audit events spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Plan => "plan",
            Action::Withdraw => "withdraw",
            Action::Stub => "stub",
            Action::Rehydrate => "rehydrate",
            Action::Delete => "delete",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of an allowed transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The state after the action; `None` when a plan was withdrawn.
    pub state: Option<TierState>,
    /// Whether this action starts a new incarnation (re-planning after rehydration or deletion).
    pub new_incarnation: bool,
}

/// The transition table. `from = None` means the file has no tier object (or its plan was
/// withdrawn).
///
/// | from \ action | plan | withdraw | stub | rehydrate | delete |
/// |---|---|---|---|---|---|
/// | none | PLANNED | – | – | – | – |
/// | PLANNED | – | none | STUBBED | – | – |
/// | STUBBED | – | – | – | REHYDRATED | DELETED |
/// | REHYDRATED | PLANNED (new incarnation) | – | – | – | DELETED |
/// | DELETED | PLANNED (new incarnation) | – | – | – | – |
pub fn transition(from: Option<TierState>, action: Action) -> Result<Outcome> {
    use TierState::*;
    let ok = |state, new_incarnation| {
        Ok(Outcome {
            state,
            new_incarnation,
        })
    };
    match (from, action) {
        (None, Action::Plan) => ok(Some(Planned), false),
        (Some(Rehydrated | Deleted), Action::Plan) => ok(Some(Planned), true),
        (Some(Planned), Action::Withdraw) => ok(None, false),
        (Some(Planned), Action::Stub) => ok(Some(Stubbed), false),
        (Some(Stubbed), Action::Rehydrate) => ok(Some(Rehydrated), false),
        (Some(Stubbed | Rehydrated), Action::Delete) => ok(Some(Deleted), false),
        (from, action) => Err(Error::new(
            ErrorKind::InvalidTransition,
            format!(
                "cannot {action} a file that is {}",
                from.map_or("not tiered", TierState::as_str)
            ),
        )),
    }
}

/// Whether the LOST flag may be set on (or cleared from) an object in `state`: only a STUBBED
/// object's data lives on the tier target alone, so only its loss is a loss. Stores refuse the
/// flag in any other state (`InvalidTransition`), and never change it in the same write as the
/// state.
pub fn may_flag_lost(state: TierState) -> bool {
    matches!(state, TierState::Stubbed)
}

/// [`may_flag_lost`] as the stores check it: `InvalidTransition` naming the state.
pub fn check_lost_flag(state: TierState) -> Result<()> {
    if may_flag_lost(state) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidTransition,
            format!(
                "cannot flag a file that is {state} as lost: only a STUBBED file's data can be"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TierState::*;

    #[test]
    fn only_stubbed_objects_may_be_flagged_lost() {
        for s in TierState::ALL {
            assert_eq!(may_flag_lost(s), s == Stubbed, "{s}");
            match check_lost_flag(s) {
                Ok(()) => assert_eq!(s, Stubbed),
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::InvalidTransition);
                    assert!(e.to_string().contains(s.as_str()), "{e}");
                }
            }
        }
    }

    /// Every (from, action) pair, with the expected result: the whole table, allowed and refused.
    #[test]
    fn every_transition() {
        let expect =
            |from: Option<TierState>, action: Action| -> Option<(Option<TierState>, bool)> {
                match (from, action) {
                    (None, Action::Plan) => Some((Some(Planned), false)),
                    (Some(Rehydrated), Action::Plan) => Some((Some(Planned), true)),
                    (Some(Deleted), Action::Plan) => Some((Some(Planned), true)),
                    (Some(Planned), Action::Withdraw) => Some((None, false)),
                    (Some(Planned), Action::Stub) => Some((Some(Stubbed), false)),
                    (Some(Stubbed), Action::Rehydrate) => Some((Some(Rehydrated), false)),
                    (Some(Stubbed), Action::Delete) => Some((Some(Deleted), false)),
                    (Some(Rehydrated), Action::Delete) => Some((Some(Deleted), false)),
                    _ => None,
                }
            };
        let froms = std::iter::once(None).chain(TierState::ALL.into_iter().map(Some));
        let mut allowed = 0;
        let mut refused = 0;
        for from in froms {
            for action in Action::ALL {
                match (transition(from, action), expect(from, action)) {
                    (Ok(o), Some((state, inc))) => {
                        assert_eq!(
                            (o.state, o.new_incarnation),
                            (state, inc),
                            "{from:?} {action}"
                        );
                        allowed += 1;
                    }
                    (Err(e), None) => {
                        assert_eq!(e.kind(), ErrorKind::InvalidTransition);
                        assert!(
                            e.to_string().starts_with(&format!("cannot {action}")),
                            "{e}"
                        );
                        refused += 1;
                    }
                    (got, want) => panic!("{from:?} {action}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!((allowed, refused), (8, 17));
    }

    #[test]
    fn refused_message_names_state() {
        let e = transition(Some(Stubbed), Action::Stub).unwrap_err();
        assert_eq!(e.to_string(), "cannot stub a file that is STUBBED");
        let e = transition(None, Action::Rehydrate).unwrap_err();
        assert_eq!(e.to_string(), "cannot rehydrate a file that is not tiered");
    }

    #[test]
    fn planning_blocked_only_when_stubbed() {
        // A PLANNED file is evaluated again, so a re-committed plan keeps it.
        assert!(!Planned.blocks_planning());
        assert!(Stubbed.blocks_planning());
        assert!(!Rehydrated.blocks_planning());
        assert!(!Deleted.blocks_planning());
    }

    #[test]
    fn state_names_round_trip() {
        for s in TierState::ALL {
            assert_eq!(s.as_str().parse::<TierState>().unwrap(), s);
            assert_eq!(s.as_str().to_lowercase().parse::<TierState>().unwrap(), s);
        }
        assert_eq!(
            "FROZEN".parse::<TierState>().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    proptest::proptest! {
        /// Any sequence of actions applied through the table keeps the object in a valid state,
        /// counts incarnations only on re-planning, and never leaves DELETED except by planning.
        #[test]
        fn random_walks_stay_valid(actions in proptest::collection::vec(0usize..5, 0..64)) {
            let mut state: Option<TierState> = None;
            let mut incarnation = 0u32;
            for a in actions {
                let action = Action::ALL[a];
                match transition(state, action) {
                    Ok(o) => {
                        if o.new_incarnation { incarnation += 1; }
                        if state == Some(Deleted) { proptest::prop_assert_eq!(action, Action::Plan); }
                        state = o.state;
                    }
                    Err(e) => proptest::prop_assert_eq!(e.kind(), ErrorKind::InvalidTransition),
                }
            }
            proptest::prop_assert!(incarnation <= 64);
        }
    }
}
