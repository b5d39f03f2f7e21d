//! `read_volatile_from`/`write_volatile_to` with scripted endpoints (vm-memory 0.18 §1.2, §1.4,
//! §1.5): each region piece gets one read (retried on `EINTR`), short reads do not stop the loop;
//! each piece is written completely with the sink's `write_all_volatile` (retried on `EINTR`,
//! `PartialBuffer` for the piece when the sink takes nothing); other errors end the call, and what
//! was moved before stays moved.

use std::io::ErrorKind;

use vm_memory_core::Permissions;

use super::error::MemError;
use super::memory::ModelMemory;
use crate::endpoints::{Outcome, Script};

/// The model of a scripted source: the same data and script.
#[derive(Debug)]
pub struct ModelSource {
    /// The bytes to give.
    pub data: Vec<u8>,
    /// How many were given.
    pub pos: usize,
    /// The calls' behaviour.
    pub script: Script,
}

/// The model of a scripted sink.
#[derive(Debug)]
pub struct ModelSink {
    /// What was written.
    pub data: Vec<u8>,
    /// The most it takes.
    pub capacity: usize,
    /// The calls' behaviour.
    pub script: Script,
}

fn failed() -> MemError {
    MemError::IOError(ErrorKind::Other)
}

impl ModelMemory {
    /// `read_volatile_from` with a scripted source.
    pub fn read_volatile_from_scripted(
        &mut self,
        addr: u64,
        src: &mut ModelSource,
        count: usize,
    ) -> Result<usize, MemError> {
        let mut done = 0;
        for piece in self.pieces_until_error_for(addr, count, Permissions::Write)? {
            let n = loop {
                match src.script.next(piece.len, src.data.len() - src.pos) {
                    Outcome::Interrupted => continue,
                    Outcome::Failed => return Err(failed()),
                    Outcome::Bytes(n) => break n,
                }
            };
            let bytes = src.data[src.pos..src.pos + n].to_vec();
            src.pos += n;
            self.write_piece_prefix(&piece, &bytes);
            done += n;
        }
        Ok(done)
    }

    /// `write_volatile_to` with a scripted sink.
    pub fn write_volatile_to_scripted(
        &self,
        addr: u64,
        sink: &mut ModelSink,
        count: usize,
    ) -> Result<usize, MemError> {
        let mut done = 0;
        for piece in self.pieces_until_error_for(addr, count, Permissions::Read)? {
            let bytes = self.piece_bytes(&piece);
            let mut completed = 0;
            while completed < bytes.len() {
                let rest = bytes.len() - completed;
                match sink.script.next(rest, sink.capacity - sink.data.len()) {
                    Outcome::Interrupted => continue,
                    Outcome::Failed => return Err(failed()),
                    Outcome::Bytes(0) => {
                        return Err(MemError::PartialBuffer {
                            expected: count,
                            completed: done + completed,
                        });
                    }
                    Outcome::Bytes(n) => {
                        sink.data
                            .extend_from_slice(&bytes[completed..completed + n]);
                        completed += n;
                    }
                }
            }
            done += bytes.len();
        }
        Ok(done)
    }
}
