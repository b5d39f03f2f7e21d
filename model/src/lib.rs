//! A reference model of vm-memory's documented semantics, and the differential checks that run
//! our crates against it.
//!
//! The model is deliberately naive: guest memory is a byte vector per region, addresses are
//! computed in `u128` so that nothing wraps by accident, a dirty bitmap is a `Vec<bool>`, an
//! IOTLB is the list of every mapping ever made (the last one wins). It encodes the semantics of
//! vm-memory 0.18 (its documentation, summarised in the project's reference notes) with the
//! deliberate differences listed in `DESIGN.md`. Nothing here reads the implementation's
//! internals: where the model and the crates disagree, one of them is wrong.
//!
//! - [`model`]: the reference models.
//! - [`input`]: `arbitrary` inputs (layouts, addresses near the interesting edges, operations).
//! - [`real`]: the real memories the checks build from those inputs.
//! - [`check`]: one differential check per fuzz target; each takes raw bytes, decodes a case,
//!   runs it on the crates and on the model, and panics with the step and the case on the first
//!   difference. `fuzz/` and this crate's property tests call the same functions.

pub mod check;
pub mod endpoints;
pub mod input;
pub mod model;
pub mod real;
