//! Scripted I/O endpoints: a `ReadVolatile` source and a `WriteVolatile` sink whose calls follow
//! a script (short transfers, `EINTR`, failures, end of data), for the real types; the model
//! replays the same script. The script is a test fixture shared by both sides; what is compared
//! is how the crates drive an endpoint (retries, loops, counts, errors).

use std::io;

use arbitrary::Arbitrary;
use vm_memory_core::bitmap::BitmapSlice;
use vm_memory_core::{ReadVolatile, VolatileMemoryError, VolatileSlice, WriteVolatile};

/// What one call of an endpoint does.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Step {
    /// Transfer at most `n % 32 + 1` bytes (and what the buffer and the data allow).
    Take(u8),
    /// Fail with `ErrorKind::Interrupted` (callers retry).
    Interrupted,
    /// Fail with another error.
    Fail,
    /// Transfer nothing (end of input, or a sink that takes no more).
    Zero,
}

/// A script: one step per call, then (when it runs out) plain transfers of all that fits.
#[derive(Clone, Debug, Default)]
pub struct Script {
    steps: Vec<Step>,
    call: usize,
}

/// The outcome of one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This many bytes moved.
    Bytes(usize),
    /// `EINTR`.
    Interrupted,
    /// Another error.
    Failed,
}

impl Script {
    /// A script of `steps` (at most 16 are used).
    pub fn new(steps: &[Step]) -> Self {
        Script {
            steps: steps.iter().copied().take(16).collect(),
            call: 0,
        }
    }

    /// The next call's outcome for a buffer of `want` bytes when `avail` bytes are available.
    pub fn next(&mut self, want: usize, avail: usize) -> Outcome {
        let step = self.steps.get(self.call).copied();
        self.call += 1;
        let most = want.min(avail);
        match step {
            None => Outcome::Bytes(most),
            Some(Step::Take(n)) => Outcome::Bytes(most.min(usize::from(n % 32) + 1)),
            Some(Step::Zero) => Outcome::Bytes(0),
            Some(Step::Interrupted) => Outcome::Interrupted,
            Some(Step::Fail) => Outcome::Failed,
        }
    }
}

fn io_error(outcome: Outcome) -> VolatileMemoryError {
    VolatileMemoryError::IOError(if outcome == Outcome::Interrupted {
        io::Error::from(io::ErrorKind::Interrupted)
    } else {
        io::Error::other("scripted failure")
    })
}

/// A source of `data`, read in the script's steps.
#[derive(Debug)]
pub struct ScriptedSource {
    /// The bytes to give.
    pub data: Vec<u8>,
    /// How many were given.
    pub pos: usize,
    /// The calls' behaviour.
    pub script: Script,
}

impl ReadVolatile for ScriptedSource {
    fn read_volatile<B: BitmapSlice>(
        &mut self,
        buf: &mut VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        match self.script.next(buf.len(), self.data.len() - self.pos) {
            Outcome::Bytes(n) => {
                buf.subslice(0, n)?
                    .copy_from(&self.data[self.pos..self.pos + n]);
                self.pos += n;
                Ok(n)
            }
            other => Err(io_error(other)),
        }
    }
}

/// A sink of at most `capacity` bytes, written in the script's steps.
#[derive(Debug)]
pub struct ScriptedSink {
    /// What was written.
    pub data: Vec<u8>,
    /// The most it takes.
    pub capacity: usize,
    /// The calls' behaviour.
    pub script: Script,
}

impl WriteVolatile for ScriptedSink {
    fn write_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        match self.script.next(buf.len(), self.capacity - self.data.len()) {
            Outcome::Bytes(n) => {
                let mut bytes = vec![0u8; n];
                let copied = buf.subslice(0, n)?.copy_to(&mut bytes);
                assert_eq!(copied, n);
                self.data.extend_from_slice(&bytes);
                Ok(n)
            }
            other => Err(io_error(other)),
        }
    }
}

/// The steps of a script, decoded with a count (see [`crate::input::many`]).
#[derive(Arbitrary, Clone, Debug)]
pub struct Steps(
    #[arbitrary(with = |u: &mut arbitrary::Unstructured<'_>| crate::input::many(u, 16))]
    pub  Vec<Step>,
);
